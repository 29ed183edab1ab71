// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.Optional;

/**
 * Parses the lines of {@code conntrack -E -e NEW -o timestamp} (conntrack-tools), e.g.
 * <pre>
 * [1795271300.616334]	    [NEW] tcp      6 120 SYN_SENT src=192.168.0.10 dst=1.1.1.1 sport=60518 dport=80
 *     [UNREPLIED] src=1.1.1.1 dst=20.0.0.0 sport=80 dport=60518         (one line)
 * </pre>
 * The first {@code src=}/{@code dst=} pair is the original tuple, the second the reply tuple. Other lines
 * (the summary printed on exit, errors, IPv6 flows) yield nothing.
 */
public final class ConntrackParser {
    private ConntrackParser() {
    }

    /**
     * @param line one output line
     * @return the event, empty for anything that is not an IPv4 NEW event
     */
    public static Optional<ConntrackEvent> parse(String line) {
        int tag = line.indexOf("[NEW]");
        if (tag < 0) {
            return Optional.empty();
        }
        String[] tokens = line.substring(tag + 5).trim().split("\\s+");
        if (tokens.length < 3) {
            return Optional.empty();
        }
        int protocol;
        try {
            protocol = Integer.parseInt(tokens[1]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        int[] addresses = new int[4];
        int found = 0;
        for (String t : tokens) {
            boolean src = t.startsWith("src=");
            if (src || t.startsWith("dst=")) {
                // expected order: src, dst, src, dst
                if (src != (found % 2 == 0)) {
                    return Optional.empty();
                }
                try {
                    addresses[found++] = Ipv4.parse(t.substring(4));
                } catch (IllegalArgumentException e) {
                    return Optional.empty(); // IPv6
                }
                if (found == 4) {
                    return Optional.of(new ConntrackEvent(protocol, addresses[0], addresses[1], addresses[2],
                            addresses[3]));
                }
            }
        }
        return Optional.empty();
    }
}
