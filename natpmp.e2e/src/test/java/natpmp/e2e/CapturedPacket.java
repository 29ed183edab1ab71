// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One UDP/IPv4 packet from {@code tcpdump -n -tt -l -x} output.
 *
 * @param time    capture time in seconds since the epoch (microsecond precision)
 * @param src     source address
 * @param srcPort source port
 * @param dst     destination address
 * @param dstPort destination port
 * @param ip      the IPv4 packet bytes as dumped by {@code -x} (without the link-layer header)
 */
public record CapturedPacket(double time, String src, int srcPort, String dst, int dstPort, byte[] ip) {

    private static final Pattern HEADER = Pattern.compile(
            "^(\\d+\\.\\d+) IP (\\d+\\.\\d+\\.\\d+\\.\\d+)\\.(\\d+) > (\\d+\\.\\d+\\.\\d+\\.\\d+)\\.(\\d+): UDP.*");
    private static final Pattern HEX = Pattern.compile("^\\s+0x[0-9a-f]+:\\s+([0-9a-f ]+)$");

    /** Compact constructor: defensive copy. */
    public CapturedPacket {
        ip = ip.clone();
    }

    @Override
    public byte[] ip() {
        return ip.clone();
    }

    /** @return the UDP payload, cut by the IP header length and total length (link padding ignored) */
    public byte[] payload() {
        if (ip.length < 28) {
            return new byte[0];
        }
        int ihl = (ip[0] & 0x0f) * 4;
        int total = Math.min(ip.length, ((ip[2] & 0xff) << 8) | (ip[3] & 0xff));
        int from = ihl + 8;
        return from > total ? new byte[0] : Arrays.copyOfRange(ip, from, total);
    }

    /**
     * Parses tcpdump's text; lines that are not UDP/IPv4 headers or their hex dump are ignored.
     *
     * @param text tcpdump output
     * @return the packets in capture order
     */
    public static List<CapturedPacket> parse(String text) {
        List<CapturedPacket> packets = new ArrayList<>();
        Matcher header = null;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String line : text.split("\n")) {
            Matcher h = HEADER.matcher(line);
            if (h.matches()) {
                if (header != null) {
                    packets.add(of(header, bytes.toByteArray()));
                }
                header = h;
                bytes.reset();
                continue;
            }
            Matcher x = HEX.matcher(line);
            if (header != null && x.matches()) {
                byte[] chunk = HexFormat.of().parseHex(x.group(1).replace(" ", ""));
                bytes.writeBytes(chunk);
            }
        }
        if (header != null) {
            packets.add(of(header, bytes.toByteArray()));
        }
        return packets;
    }

    private static CapturedPacket of(Matcher h, byte[] ip) {
        return new CapturedPacket(Double.parseDouble(h.group(1)), h.group(2), Integer.parseInt(h.group(3)),
                h.group(4), Integer.parseInt(h.group(5)), ip);
    }

    @Override
    public String toString() {
        return String.format("%.6f %s:%d > %s:%d payload %s", time, src, srcPort, dst, dstPort,
                HexFormat.of().formatHex(payload()));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CapturedPacket p && p.time == time && p.src.equals(src) && p.srcPort == srcPort
                && p.dst.equals(dst) && p.dstPort == dstPort && Arrays.equals(p.ip, ip);
    }

    @Override
    public int hashCode() {
        return Double.hashCode(time) * 31 + Arrays.hashCode(ip);
    }
}
