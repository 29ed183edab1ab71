// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;
import natpmp.service.internal.core.LeaseFile.StoredLease;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The lease file format, version 1: UTF-8 text, one record per line.
 * <pre>
 * natpmp-leases 1
 * epoch-start &lt;wall-clock millis&gt;
 * lease &lt;udp|tcp&gt; &lt;client&gt; &lt;internal port&gt; &lt;external port&gt; &lt;lifetime s&gt; &lt;expiry wall-clock millis&gt;
 * ...
 * journal &lt;generation&gt;            (optional, 0 when absent)
 * end &lt;number of lease lines&gt;
 * </pre>
 * Lines starting with {@code #} and blank lines are ignored. The {@code end} line makes a truncated file
 * detectable: anything unexpected (unknown version, bad field, missing or wrong {@code end}, text after it)
 * makes the whole file corrupt, which the listener treats as state loss (new epoch, announcements, N24).
 *
 * <h2>Journal</h2>
 * So that saving a committed change costs O(change) and not O(table), changes after a snapshot are appended
 * to a journal, one line each, and replayed over the snapshot on restore:
 * <pre>
 * natpmp-journal 1 &lt;generation&gt;
 * lease &lt;udp|tcp&gt; &lt;client&gt; &lt;internal port&gt; &lt;external port&gt; &lt;lifetime s&gt; &lt;expiry wall-clock millis&gt;
 * drop &lt;udp|tcp&gt; &lt;client&gt; &lt;internal port&gt;
 * </pre>
 * A {@code lease} line inserts or replaces the mapping of its key, a {@code drop} line removes it. The journal
 * applies only to the snapshot whose {@code journal} line names its generation: a compaction writes a new
 * snapshot with the next generation and then starts a new journal, so a crash between the two leaves a stale
 * journal that is ignored. A process killed mid-append leaves a last line without its newline: that torn
 * tail is ignored, everything before it applies.
 */
public final class LeaseCodec {
    /** First line of every lease file, followed by the version. */
    public static final String MAGIC = "natpmp-leases";
    /** The version written. */
    public static final int VERSION = 1;
    /** First word of every journal, followed by the version and the generation. */
    public static final String JOURNAL_MAGIC = "natpmp-journal";

    private LeaseCodec() {
    }

    /** The file cannot be read: treat as lost state. */
    public static final class CorruptLeaseFileException extends Exception {
        private static final long serialVersionUID = 1L;

        /**
         * @param message what is wrong
         */
        public CorruptLeaseFileException(String message) {
            super(message);
        }
    }

    /**
     * @param file the state
     * @return the file contents
     */
    public static String format(LeaseFile file) {
        StringBuilder b = new StringBuilder(64 + 64 * file.leases().size());
        b.append(MAGIC).append(' ').append(VERSION).append('\n');
        b.append("epoch-start ").append(file.epochStartWallMillis()).append('\n');
        if (file.journal() != 0) {
            b.append("journal ").append(file.journal()).append('\n');
        }
        for (StoredLease l : file.leases()) {
            appendLease(b, l);
        }
        b.append("end ").append(file.leases().size()).append('\n');
        return b.toString();
    }

    /**
     * @param text the file contents
     * @return the state
     * @throws CorruptLeaseFileException if the file is truncated or damaged
     */
    public static LeaseFile parse(String text) throws CorruptLeaseFileException {
        String[] lines = text.split("\n", -1);
        int i = 0;
        Long epochStart = null;
        Long journal = null;
        List<StoredLease> leases = new ArrayList<>();
        boolean header = false;
        boolean ended = false;
        for (; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (ended) {
                throw corrupt(i, "text after the end line");
            }
            String[] f = line.split("\\s+");
            if (!header) {
                if (f.length != 2 || !f[0].equals(MAGIC) || !f[1].equals(Integer.toString(VERSION))) {
                    throw corrupt(i, "not a version " + VERSION + " lease file");
                }
                header = true;
                continue;
            }
            switch (f[0]) {
                case "epoch-start":
                    if (f.length != 2 || epochStart != null) {
                        throw corrupt(i, "bad epoch-start line");
                    }
                    epochStart = number(f[1], i);
                    break;
                case "journal":
                    if (f.length != 2 || journal != null) {
                        throw corrupt(i, "bad journal line");
                    }
                    journal = number(f[1], i);
                    if (journal < 0) {
                        throw corrupt(i, "negative journal generation");
                    }
                    break;
                case "lease":
                    leases.add(lease(f, i));
                    break;
                case "end":
                    if (f.length != 2 || number(f[1], i) != leases.size()) {
                        throw corrupt(i, "end line does not match " + leases.size() + " leases");
                    }
                    ended = true;
                    break;
                default:
                    throw corrupt(i, "unknown record '" + f[0] + "'");
            }
        }
        if (!header) {
            throw new CorruptLeaseFileException("empty lease file");
        }
        if (epochStart == null) {
            throw new CorruptLeaseFileException("lease file has no epoch-start line");
        }
        if (!ended) {
            throw new CorruptLeaseFileException("lease file is truncated (no end line)");
        }
        return new LeaseFile(epochStart, leases, journal == null ? 0 : journal);
    }

    /**
     * Appends one {@code lease} line (snapshot and journal use the same line).
     *
     * @param b     where to
     * @param lease the mapping
     * @return {@code b}
     */
    public static StringBuilder appendLease(StringBuilder b, StoredLease lease) {
        return b.append("lease ").append(lease.key().protocol().keyword()).append(' ')
                .append(lease.key().client().getHostAddress()).append(' ')
                .append(lease.key().internalPort()).append(' ')
                .append(lease.externalPort()).append(' ')
                .append(lease.lifetime()).append(' ')
                .append(lease.expiresAtWallMillis()).append('\n');
    }

    /**
     * Appends one journal {@code drop} line.
     *
     * @param b   where to
     * @param key the mapping that is gone
     * @return {@code b}
     */
    public static StringBuilder appendDrop(StringBuilder b, MappingKey key) {
        return b.append("drop ").append(key.protocol().keyword()).append(' ')
                .append(key.client().getHostAddress()).append(' ')
                .append(key.internalPort()).append('\n');
    }

    /**
     * @param generation the generation named by the snapshot this journal continues
     * @return the first line of a new journal
     */
    public static String journalHeader(long generation) {
        return JOURNAL_MAGIC + ' ' + VERSION + ' ' + generation + '\n';
    }

    /**
     * The result of replaying a journal.
     *
     * @param state   the snapshot with the journal applied
     * @param applied how many journal records were applied
     * @param torn    whether an incomplete last line was ignored (a process killed while appending)
     * @param problem why the journal was ignored or replay stopped early, empty when it applied fully
     */
    public record Replay(LeaseFile state, int applied, boolean torn, Optional<String> problem) {
    }

    /**
     * Applies a journal to the snapshot it continues, in order. A journal of another generation applies not at
     * all; a damaged line stops the replay there (what came before stays applied); an incomplete last line is
     * ignored.
     *
     * @param snapshot the snapshot
     * @param journal  the journal text
     * @return the replayed state
     */
    public static Replay replay(LeaseFile snapshot, String journal) {
        int end = journal.lastIndexOf('\n');
        boolean torn = end + 1 < journal.length();
        String[] lines = end < 0 ? new String[0] : journal.substring(0, end).split("\n", -1);
        if (lines.length == 0) {
            return new Replay(snapshot, 0, torn, Optional.of("journal has no header"));
        }
        String[] h = lines[0].strip().split("\\s+");
        if (h.length != 3 || !h[0].equals(JOURNAL_MAGIC) || !h[1].equals(Integer.toString(VERSION))) {
            return new Replay(snapshot, 0, torn, Optional.of("not a version " + VERSION + " journal"));
        }
        if (!h[2].equals(Long.toString(snapshot.journal()))) {
            return new Replay(snapshot, 0, torn, Optional.of("journal generation " + h[2]
                    + " does not continue snapshot generation " + snapshot.journal()));
        }
        Map<MappingKey, StoredLease> state = new LinkedHashMap<>();
        for (StoredLease l : snapshot.leases()) {
            state.put(l.key(), l);
        }
        int applied = 0;
        Optional<String> problem = Optional.empty();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            try {
                switch (f[0]) {
                    case "lease" -> {
                        StoredLease l = lease(f, i);
                        state.put(l.key(), l);
                    }
                    case "drop" -> {
                        if (f.length != 4) {
                            throw corrupt(i, "drop line needs 4 fields");
                        }
                        state.remove(new MappingKey(Addresses.parse(f[2]), protocol(f[1], i),
                                (int) bounded(f[3], i, 0xffff)));
                    }
                    default -> throw corrupt(i, "unknown journal record '" + f[0] + "'");
                }
                applied++;
            } catch (CorruptLeaseFileException | IllegalArgumentException e) {
                problem = Optional.of("journal " + e.getMessage());
                break;
            }
        }
        return new Replay(new LeaseFile(snapshot.epochStartWallMillis(), List.copyOf(state.values()),
                snapshot.journal()), applied, torn, problem);
    }

    private static StoredLease lease(String[] f, int line) throws CorruptLeaseFileException {
        if (f.length != 7) {
            throw corrupt(line, "lease line needs 7 fields");
        }
        Protocol protocol = protocol(f[1], line);
        try {
            MappingKey key = new MappingKey(Addresses.parse(f[2]), protocol, (int) bounded(f[3], line, 0xffff));
            return new StoredLease(key, (int) bounded(f[4], line, 0xffff), bounded(f[5], line, NatPmpCodec.U32_MAX),
                    number(f[6], line));
        } catch (IllegalArgumentException e) {
            throw corrupt(line, e.getMessage());
        }
    }

    private static Protocol protocol(String text, int line) throws CorruptLeaseFileException {
        switch (text.toLowerCase(Locale.ROOT)) {
            case "udp":
                return Protocol.UDP;
            case "tcp":
                return Protocol.TCP;
            default:
                throw corrupt(line, "unknown protocol '" + text + "'");
        }
    }

    private static long bounded(String text, int line, long max) throws CorruptLeaseFileException {
        long v = number(text, line);
        if (v < 0 || v > max) {
            throw corrupt(line, "value " + v + " out of range 0.." + max);
        }
        return v;
    }

    private static long number(String text, int line) throws CorruptLeaseFileException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw corrupt(line, "'" + text + "' is not a number");
        }
    }

    private static CorruptLeaseFileException corrupt(int line, String why) {
        return new CorruptLeaseFileException("lease file line " + (line + 1) + ": " + why);
    }
}
