// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Reads and atomically replaces the lease file: the text goes to a temporary file in the same directory,
 * is forced to disk, renamed over the old file with {@code ATOMIC_MOVE}, and the directory is forced too,
 * so after a crash the file holds either the old or the new state, never a mix.
 */
public final class LeaseStore {
    private final Path file;
    private final Path temp;

    /**
     * @param file the lease file (its directory must exist)
     */
    public LeaseStore(Path file) {
        this.file = file;
        this.temp = file.resolveSibling(file.getFileName() + ".tmp");
    }

    /** @return where the leases live */
    public Path file() {
        return file;
    }

    /**
     * @return the file's text, empty if there is no file
     * @throws IOException if it exists but cannot be read
     */
    public Optional<String> read() throws IOException {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Replaces the file's contents atomically and durably.
     *
     * @param text the new contents
     * @throws IOException if writing failed; the previous file is then untouched
     */
    public void write(String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        forceDirectory();
    }

    private void forceDirectory() {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true); // makes the rename durable on Linux
        } catch (IOException e) {
            // some file systems cannot open or sync directories; the rename itself already happened
        }
    }
}
