// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e.tools;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures the round trip of the first datagram of a new UDP connection to an echo server, from many source
 * addresses, run as its own JVM in the LAN namespace of a lab:
 * <pre>
 * FirstPacketProbe TARGET PORT FIRST_SOURCE WARMUP COUNT TIMEOUT_MS [PHASES]
 * </pre>
 * Phase {@code unbound}: sources {@code FIRST_SOURCE + 0 .. WARMUP+COUNT-1}, each sending its very first datagram
 * (the subnet mapper holds it in NFQUEUE until the source's binding is in the kernel); the first {@code WARMUP} are
 * not counted. Phase {@code bound}: the counted sources again, each with a new socket (a new connection, which the
 * kernel translates without asking the mapper). {@code PHASES} ({@code unbound,bound} by default) selects and names
 * the phases; a phase named other than {@code unbound} runs like {@code bound}. One datagram at a time, so each
 * sample is a latency, not a rate.
 * Prints one {@code SAMPLE phase source micros} line per sample (micros -1 on timeout) and a {@code SUMMARY} line
 * per phase.
 */
public final class FirstPacketProbe {
    private FirstPacketProbe() {
    }

    /**
     * @param args see the class comment
     * @throws IOException if a socket cannot be opened
     */
    public static void main(String[] args) throws IOException {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        int first = bits(InetAddress.getByName(args[2]));
        int warmup = Integer.parseInt(args[3]);
        int count = Integer.parseInt(args[4]);
        int timeoutMs = Integer.parseInt(args[5]);
        String[] phases = (args.length > 6 ? args[6] : "unbound,bound").split(",");
        for (String phase : phases) {
            if (phase.equals("unbound")) {
                summary(phase, run(phase, target, first, 0, warmup + count, warmup, timeoutMs));
            } else {
                summary(phase, run(phase, target, first, warmup, warmup + count, 0, timeoutMs));
            }
        }
    }

    private static List<Long> run(String phase, InetSocketAddress target, int first, int from, int to, int skip,
            int timeoutMs) throws IOException {
        List<Long> micros = new ArrayList<>();
        byte[] reply = new byte[256];
        for (int i = from; i < to; i++) {
            InetAddress source = address(first + i);
            byte[] payload = (phase + " " + i).getBytes(StandardCharsets.US_ASCII);
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(source, 0))) {
                socket.setSoTimeout(timeoutMs);
                DatagramPacket in = new DatagramPacket(reply, reply.length);
                long start = System.nanoTime();
                socket.send(new DatagramPacket(payload, payload.length, target));
                long took;
                try {
                    socket.receive(in);
                    took = (System.nanoTime() - start) / 1000;
                } catch (SocketTimeoutException e) {
                    took = -1;
                }
                if (i - from >= skip) {
                    micros.add(took);
                    System.out.println("SAMPLE " + phase + " " + source.getHostAddress() + " " + took);
                }
            }
        }
        return micros;
    }

    private static void summary(String phase, List<Long> micros) {
        long timeouts = micros.stream().filter(m -> m < 0).count();
        long[] ok = micros.stream().filter(m -> m >= 0).mapToLong(Long::longValue).sorted().toArray();
        System.out.printf("SUMMARY %s samples=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d%n", phase,
                micros.size(), timeouts, rank(ok, 0.50), rank(ok, 0.90), rank(ok, 0.99),
                ok.length == 0 ? -1 : ok[ok.length - 1]);
        System.out.flush();
    }

    /** Nearest-rank percentile of sorted values, -1 when there are none. */
    static long rank(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int index = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static int bits(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    private static InetAddress address(int bits) throws IOException {
        return InetAddress.getByAddress(new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8),
            (byte) bits});
    }
}
