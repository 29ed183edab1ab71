// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;
import natpmp.service.internal.core.LeaseFile.StoredLease;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lease file format, version 1: UTF-8 text, one record per line.
 * <pre>
 * natpmp-leases 1
 * epoch-start &lt;wall-clock millis&gt;
 * lease &lt;udp|tcp&gt; &lt;client&gt; &lt;internal port&gt; &lt;external port&gt; &lt;lifetime s&gt; &lt;expiry wall-clock millis&gt;
 * ...
 * end &lt;number of lease lines&gt;
 * </pre>
 * Lines starting with {@code #} and blank lines are ignored. The {@code end} line makes a truncated file
 * detectable: anything unexpected (unknown version, bad field, missing or wrong {@code end}, text after it)
 * makes the whole file corrupt, which the listener treats as state loss (new epoch, announcements, N24).
 */
public final class LeaseCodec {
    /** First line of every lease file, followed by the version. */
    public static final String MAGIC = "natpmp-leases";
    /** The version written. */
    public static final int VERSION = 1;

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
        for (StoredLease l : file.leases()) {
            b.append("lease ").append(l.key().protocol().keyword()).append(' ')
                    .append(l.key().client().getHostAddress()).append(' ')
                    .append(l.key().internalPort()).append(' ')
                    .append(l.externalPort()).append(' ')
                    .append(l.lifetime()).append(' ')
                    .append(l.expiresAtWallMillis()).append('\n');
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
        return new LeaseFile(epochStart, leases);
    }

    private static StoredLease lease(String[] f, int line) throws CorruptLeaseFileException {
        if (f.length != 7) {
            throw corrupt(line, "lease line needs 7 fields");
        }
        Protocol protocol;
        switch (f[1].toLowerCase(Locale.ROOT)) {
            case "udp":
                protocol = Protocol.UDP;
                break;
            case "tcp":
                protocol = Protocol.TCP;
                break;
            default:
                throw corrupt(line, "unknown protocol '" + f[1] + "'");
        }
        try {
            MappingKey key = new MappingKey(Addresses.parse(f[2]), protocol, (int) bounded(f[3], line, 0xffff));
            return new StoredLease(key, (int) bounded(f[4], line, 0xffff), bounded(f[5], line, NatPmpCodec.U32_MAX),
                    number(f[6], line));
        } catch (IllegalArgumentException e) {
            throw corrupt(line, e.getMessage());
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
