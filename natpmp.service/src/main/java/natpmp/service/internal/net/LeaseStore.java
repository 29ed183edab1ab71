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
 * The lease snapshot and its journal.
 *
 * <p>The snapshot is replaced atomically: the text goes to a temporary file in the same directory, is forced
 * to disk, renamed over the old file with {@code ATOMIC_MOVE}, and the directory is forced too, so after a
 * crash the file holds either the old or the new state, never a mix.
 *
 * <p>The journal ({@code <file>.journal}) takes one line per committed change between snapshots. Appends are
 * plain writes: once {@code write} returns, the data is in the page cache and survives a {@code kill -9} of
 * the process; {@link #sync} (called about once a second) makes it survive a power loss too.
 *
 * <p>Not thread safe: after restore it is used by one thread only (the listener's commit thread); only
 * {@link #unsynced} may be read from anywhere.
 */
public final class LeaseStore implements AutoCloseable {
    private final Path file;
    private final Path temp;
    private final Path journal;
    private final Path journalTemp;
    private FileChannel journalChannel;
    private volatile boolean unsynced;

    /**
     * @param file the lease file (its directory must exist)
     */
    public LeaseStore(Path file) {
        this.file = file;
        this.temp = file.resolveSibling(file.getFileName() + ".tmp");
        this.journal = file.resolveSibling(file.getFileName() + ".journal");
        this.journalTemp = file.resolveSibling(file.getFileName() + ".journal.tmp");
    }

    /** @return the journal file */
    public Path journalFile() {
        return journal;
    }

    /**
     * @return the journal's text, empty if there is none
     * @throws IOException if it exists but cannot be read
     */
    public Optional<String> readJournal() throws IOException {
        try {
            return Optional.of(Files.readString(journal, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Replaces the snapshot and then starts a new, empty journal (compaction). The snapshot must name
     * {@code header}'s generation so that the old journal, should we crash between the two steps, is ignored.
     *
     * @param snapshot the new snapshot text
     * @param header   the first line of the new journal
     * @throws IOException if writing failed; the old snapshot and journal then still describe the state
     */
    public void compact(String snapshot, String header) throws IOException {
        write(snapshot);
        closeJournal();
        replace(journalTemp, journal, header);
        journalChannel = FileChannel.open(journal, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        unsynced = false;
    }

    /**
     * Appends journal lines (each ending in a newline). No fsync: see the class comment.
     *
     * @param lines the lines
     * @throws IOException if no journal was started by {@link #compact} or writing failed
     */
    public void append(String lines) throws IOException {
        if (journalChannel == null) {
            throw new IOException("no journal started for " + file);
        }
        ByteBuffer bytes = ByteBuffer.wrap(lines.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            journalChannel.write(bytes);
        }
        unsynced = true;
    }

    /** @return whether appended lines still wait for {@link #sync} */
    public boolean unsynced() {
        return unsynced;
    }

    /**
     * Forces appended journal lines to disk (power-loss safety).
     *
     * @throws IOException if forcing failed
     */
    public void sync() throws IOException {
        if (journalChannel != null && unsynced) {
            journalChannel.force(false);
            unsynced = false;
        }
    }

    /** Forces and closes the journal; a later {@link #compact} opens a new one. */
    @Override
    public void close() {
        closeJournal();
    }

    private void closeJournal() {
        FileChannel ch = journalChannel;
        journalChannel = null;
        if (ch != null) {
            try {
                if (unsynced) {
                    ch.force(false);
                }
                ch.close();
            } catch (IOException e) {
                // closing is best effort: the lines are in the page cache already
            }
        }
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
        replace(temp, file, text);
    }

    private void replace(Path tmp, Path target, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
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
