// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.util.ArrayList;
import java.util.List;

/**
 * An inclusive range of ports.
 *
 * @param low  first port
 * @param high last port, at least {@code low}
 */
public record PortRange(int low, int high) {
    /** Checks the bounds. */
    public PortRange {
        if (low < 0 || high > 0xffff || low > high) {
            throw new IllegalArgumentException("port range " + low + "-" + high + " must satisfy 0 <= low <= high <= 65535");
        }
    }

    /**
     * Parses {@code N} or {@code N-M} with ports 1..65535.
     *
     * @param text the text
     * @return the range
     * @throws IllegalArgumentException with a message naming the text
     */
    public static PortRange parse(String text) {
        return parse(text, 1);
    }

    /**
     * Parses {@code N} or {@code N-M} with ports 0..65535, as permission rules write them
     * ({@code 0-65535} = every port).
     *
     * @param text the text
     * @return the range
     * @throws IllegalArgumentException with a message naming the text
     */
    public static PortRange parseRules(String text) {
        return parse(text, 0);
    }

    private static PortRange parse(String text, int min) {
        String t = text.strip();
        int dash = t.indexOf('-');
        int low = port(t, dash < 0 ? t : t.substring(0, dash), min);
        int high = dash < 0 ? low : port(t, t.substring(dash + 1), min);
        if (low > high) {
            throw new IllegalArgumentException("port range '" + t + "' has its first port above its last");
        }
        return new PortRange(low, high);
    }

    /**
     * Parses ranges separated by commas or whitespace.
     *
     * @param text e.g. {@code 22, 80-89 443}
     * @return the ranges (empty for blank text)
     */
    public static List<PortRange> parseList(String text) {
        List<PortRange> ranges = new ArrayList<>();
        for (String part : text.split("[,\\s]+")) {
            if (!part.isEmpty()) {
                ranges.add(parse(part));
            }
        }
        return ranges;
    }

    private static int port(String whole, String digits, int min) {
        String d = digits.strip();
        if (d.isEmpty() || d.length() > 5 || !d.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + whole + "' is not a port or port range (N or N-M)");
        }
        int p = Integer.parseInt(d);
        if (p < min || p > 0xffff) {
            throw new IllegalArgumentException("port " + p + " in '" + whole + "' must be in " + min + "..65535");
        }
        return p;
    }

    /**
     * @param port a port
     * @return whether it lies in this range
     */
    public boolean contains(int port) {
        return port >= low && port <= high;
    }

    /** @return how many ports the range holds */
    public int size() {
        return high - low + 1;
    }

    @Override
    public String toString() {
        return low == high ? Integer.toString(low) : low + "-" + high;
    }
}
