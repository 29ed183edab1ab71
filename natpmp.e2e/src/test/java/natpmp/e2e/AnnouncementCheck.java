// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks captured NAT-PMP announcements against RFC 6886 §3.2.1 (N23): gratuitous OP-128 replies (12 bytes,
 * result 0, current external address) to 224.0.0.1:5350 from the LAN address, the first gaps 0.25 s and then
 * doubling. The full burst of 10 takes 127.75 s; the tests look at the first {@code count} copies only.
 */
public final class AnnouncementCheck {

    /** Relative tolerance on each gap (the machine is small and busy; the schedule is what matters). */
    public static final double TOLERANCE = 0.30;

    private AnnouncementCheck() {
    }

    /**
     * @param packets  what was captured on one LAN interface, in order
     * @param lanGw    expected source address
     * @param external expected external address in the payload
     * @param count    how many copies must be present and checked
     * @return human-readable problems; empty when the announcements are right
     */
    public static List<String> problems(List<CapturedPacket> packets, String lanGw, String external, int count) {
        List<String> problems = new ArrayList<>();
        List<CapturedPacket> announcements = packets.stream()
                .filter(p -> p.dst().equals("224.0.0.1") && p.dstPort() == 5350).toList();
        if (announcements.size() < count) {
            problems.add("expected at least " + count + " announcements to 224.0.0.1:5350, captured "
                    + announcements.size() + ": " + announcements);
            return problems;
        }
        byte[] address = ipv4(external);
        for (int i = 0; i < count; i++) {
            CapturedPacket p = announcements.get(i);
            if (!p.src().equals(lanGw)) {
                problems.add("copy " + i + " comes from " + p.src() + ", expected " + lanGw);
            }
            byte[] payload = p.payload();
            if (payload.length != 12) {
                problems.add("copy " + i + " has " + payload.length + " payload bytes, expected 12: " + p);
                continue;
            }
            if (payload[0] != 0 || (payload[1] & 0xff) != 128 || payload[2] != 0 || payload[3] != 0) {
                problems.add("copy " + i + " is not version 0 / OP 128 / result 0: " + p);
            }
            for (int b = 0; b < 4; b++) {
                if (payload[8 + b] != address[b]) {
                    problems.add("copy " + i + " does not carry external address " + external + ": " + p);
                    break;
                }
            }
        }
        for (int i = 1; i < count; i++) {
            double gap = announcements.get(i).time() - announcements.get(i - 1).time();
            double expected = 0.25 * (1L << (i - 1));
            if (Math.abs(gap - expected) > expected * TOLERANCE) {
                problems.add(String.format("gap %d is %.3f s, expected %.2f s ±%.0f%%", i, gap, expected,
                        TOLERANCE * 100));
            }
        }
        return problems;
    }

    private static byte[] ipv4(String dotted) {
        String[] parts = dotted.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        return bytes;
    }
}
