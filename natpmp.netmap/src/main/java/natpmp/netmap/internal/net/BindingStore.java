// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.net;

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
 * The bindings file in the bundle data area. Writes go to a sibling temporary file that is forced to disk and
 * then renamed over the file, so a crash leaves either the old or the new contents.
 */
public final class BindingStore {
    private final Path file;
    private final Path temp;

    /** @param file the file; its directory must exist */
    public BindingStore(Path file) {
        this.file = file;
        this.temp = file.resolveSibling(file.getFileName() + ".new");
    }

    /** @return the file */
    public Path file() {
        return file;
    }

    /**
     * @return the contents, empty when there is no file yet
     * @throws IOException if the file exists and cannot be read
     */
    public Optional<String> read() throws IOException {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Replaces the contents atomically.
     *
     * @param text the new contents
     * @throws IOException if writing failed; the old file is then unchanged
     */
    public void write(String text) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (data.hasRemaining()) {
                out.write(data);
            }
            out.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
