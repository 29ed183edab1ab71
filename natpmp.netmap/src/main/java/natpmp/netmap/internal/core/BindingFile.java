// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import natpmp.netmap.internal.core.NetmapAllocator.StoredBinding;

import java.util.ArrayList;
import java.util.List;

/**
 * The text format of the saved bindings, so hosts keep their public address across restarts. Monotonic
 * stamps do not survive a restart, so each binding is saved with its remaining time and the file carries the
 * wall-clock time of saving; on loading the wall time that passed is subtracted.
 *
 * <pre>
 * natpmp.netmap.bindings 1 &lt;wall-millis&gt;
 * &lt;prenat&gt; &lt;postnat&gt; &lt;remaining-millis&gt; static|dynamic
 * </pre>
 */
public final class BindingFile {
    private static final String MAGIC = "natpmp.netmap.bindings";

    /**
     * The loaded file.
     *
     * @param savedWallMillis wall-clock time of saving
     * @param bindings        the bindings as saved
     */
    public record Saved(long savedWallMillis, List<StoredBinding> bindings) {
        /** Copies the list. */
        public Saved {
            bindings = List.copyOf(bindings);
        }

        /**
         * @param nowWallMillis the wall clock now
         * @return the bindings with the time since saving taken off (never added, should the clock go back)
         */
        public List<StoredBinding> aged(long nowWallMillis) {
            long elapsed = Math.max(0, nowWallMillis - savedWallMillis);
            List<StoredBinding> out = new ArrayList<>();
            for (StoredBinding b : bindings) {
                out.add(b.staticBinding() ? b : new StoredBinding(b.prenat(), b.postnat(),
                        b.remainingMillis() - elapsed, false));
            }
            return out;
        }
    }

    private BindingFile() {
    }

    /**
     * @param bindings  the bindings
     * @param wallMillis the wall clock now
     * @return the file text
     */
    public static String format(List<StoredBinding> bindings, long wallMillis) {
        StringBuilder out = new StringBuilder(MAGIC).append(" 1 ").append(wallMillis).append('\n');
        for (StoredBinding b : bindings) {
            Ipv4.append(out, b.prenat()).append(' ');
            Ipv4.append(out, b.postnat()).append(' ').append(b.remainingMillis()).append(' ')
                    .append(b.staticBinding() ? "static" : "dynamic").append('\n');
        }
        return out.toString();
    }

    /**
     * @param text the file text
     * @return the bindings
     * @throws IllegalArgumentException naming the line when the text is not such a file
     */
    public static Saved parse(String text) {
        String[] lines = text.split("\n");
        String[] header = lines[0].trim().split(" ");
        if (header.length != 3 || !header[0].equals(MAGIC) || !header[1].equals("1")) {
            throw new IllegalArgumentException("not a bindings file (line 1: '" + lines[0] + "')");
        }
        long wall = parseLong(header[2], 1);
        List<StoredBinding> out = new ArrayList<>();
        for (int n = 1; n < lines.length; n++) {
            String line = lines[n].trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(" ");
            if (f.length != 4 || !(f[3].equals("static") || f[3].equals("dynamic"))) {
                throw new IllegalArgumentException("bad binding on line " + (n + 1) + ": '" + line + "'");
            }
            try {
                out.add(new StoredBinding(Ipv4.parse(f[0]), Ipv4.parse(f[1]), parseLong(f[2], n + 1),
                        f[3].equals("static")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad binding on line " + (n + 1) + ": " + e.getMessage(), e);
            }
        }
        return new Saved(wall, out);
    }

    private static long parseLong(String s, int line) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad number on line " + line + ": '" + s + "'", e);
        }
    }
}
