// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A small raw NAT-PMP client (RFC 6886 §3.3 MAP requests) for load in the end-to-end tests. It runs as its own JVM
 * inside a lab namespace ({@code ip netns exec <lan> java -cp <test classes> natpmp.e2e.tools.NatPmpLoadClient}),
 * because the test JVM lives in the host namespace.
 *
 * <pre>
 * NatPmpLoadClient GATEWAY COUNT FIRST_INTERNAL RATE STOP_FILE RESULT_FILE
 * </pre>
 *
 * <ol>
 * <li>fill: maps {@code COUNT} ports (internal {@code FIRST_INTERNAL ..}, UDP and TCP alternating, lifetime 3600)
 * with up to 64 requests in flight, then prints {@code FILLED <count> errors=<n> retransmits=<n> ms=<t>};</li>
 * <li>load (when {@code RATE > 0}): {@code RATE} requests per second until {@code STOP_FILE} exists, three of four
 * renewals of a random live mapping (which must keep its external port), one of four a new mapping (internal
 * ports above the filled ones);</li>
 * <li>writes every live mapping as {@code proto internal external} lines to {@code RESULT_FILE} and prints
 * {@code SUMMARY ...} then {@code DONE}.</li>
 * </ol>
 *
 * Every reply is recorded: a result code other than 0, a renewal that moved, or a reply that does not match is an
 * {@code ERROR} line; a request not answered within 250 ms (RFC 6886 §3.1: the client's first retransmission
 * interval) is sent again and printed as a {@code RETRANSMIT} line with the wall-clock time, so it can be matched
 * with the daemon log.
 */
public final class NatPmpLoadClient {

    private static final long RETRANSMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** Answers slower than this are printed ({@code SLOW} lines) to explain a latency tail. */
    private static final long SLOW_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int FILL_WINDOW = 64;
    private static final long LIFETIME = 3600;

    private final DatagramChannel channel;
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> live = new ConcurrentHashMap<>();
    private final List<Integer> liveKeys = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Stats stats = new Stats();

    /** One request waiting for its reply; key = protocol op << 16 | internal port. */
    private record Pending(int key, int suggested, long firstSent, long lastSent, int retransmits, boolean renewal) {
    }

    /** Counters of one phase, written by the receiver and the sender thread. */
    private static final class Stats {
        long sent;
        long answered;
        long retransmits;
        long errors;
        long maxLatencyNanos;
        final List<Long> latencies = new ArrayList<>();

        synchronized void reset() {
            sent = 0;
            answered = 0;
            retransmits = 0;
            errors = 0;
            maxLatencyNanos = 0;
            latencies.clear();
        }

        synchronized void answered(long latency) {
            answered++;
            maxLatencyNanos = Math.max(maxLatencyNanos, latency);
            latencies.add(latency);
        }

        synchronized long percentileMicros(double p) {
            if (latencies.isEmpty()) {
                return 0;
            }
            List<Long> copy = new ArrayList<>(latencies);
            Collections.sort(copy);
            return copy.get(Math.min(copy.size() - 1, (int) Math.floor(p * copy.size()))) / 1000;
        }
    }

    private NatPmpLoadClient(String gateway) throws IOException {
        channel = DatagramChannel.open();
        channel.connect(new InetSocketAddress(gateway, 5351));
    }

    /**
     * @param args see the class comment
     * @throws Exception when the socket cannot be used
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: NatPmpLoadClient GATEWAY COUNT FIRST_INTERNAL RATE STOP_FILE RESULT_FILE");
            System.exit(2);
        }
        NatPmpLoadClient client = new NatPmpLoadClient(args[0]);
        int count = Integer.parseInt(args[1]);
        int first = Integer.parseInt(args[2]);
        int rate = Integer.parseInt(args[3]);
        Path stop = Path.of(args[4]);
        Path result = Path.of(args[5]);
        Thread receiver = new Thread(client::receive, "natpmp-receiver");
        receiver.setDaemon(true);
        receiver.start();
        client.fill(count, first);
        if (rate > 0) {
            client.load(rate, first + count, stop);
        }
        client.running.set(false);
        client.writeMappings(result);
        System.out.println("DONE");
        System.out.flush();
        System.exit(0);
    }

    private static int key(int op, int internal) {
        return op << 16 | internal;
    }

    private static String describe(int key) {
        return ((key >> 16) == 1 ? "udp" : "tcp") + " " + (key & 0xffff);
    }

    private void fill(int count, int first) {
        stats.reset();
        long start = System.nanoTime();
        int next = 0;
        while (next < count || !pending.isEmpty()) {
            while (next < count && pending.size() < FILL_WINDOW) {
                int internal = first + next;
                int op = next % 2 == 0 ? 1 : 2;
                send(new Pending(key(op, internal), suggestion(internal), System.nanoTime(), System.nanoTime(), 0,
                        false));
                next++;
            }
            retransmitOverdue();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        synchronized (stats) {
            System.out.printf("FILLED %d errors=%d retransmits=%d ms=%d%n", live.size(), stats.errors,
                    stats.retransmits, ms);
        }
        System.out.flush();
    }

    private static int suggestion(int internal) {
        return 1024 + (internal + 30000) % 64000;
    }

    private void load(int rate, int firstNew, Path stop) {
        stats.reset();
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long next = System.nanoTime();
        long start = next;
        int newCount = 0;
        long ticks = 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        System.out.printf("LOAD started %s rate=%d%n", Instant.now(), rate);
        System.out.flush();
        while (!Files.exists(stop)) {
            long now = System.nanoTime();
            if (now >= next) {
                next += interval;
                ticks++;
                Pending request = null;
                if (ticks % 4 != 0) {
                    for (int attempt = 0; attempt < 8 && request == null; attempt++) {
                        int k = liveKeys.get(random.nextInt(liveKeys.size()));
                        if (!pending.containsKey(k)) {
                            request = new Pending(k, live.get(k), now, now, 0, true);
                        }
                    }
                }
                if (request == null) {
                    int internal = firstNew + newCount;
                    int op = newCount % 2 == 0 ? 1 : 2;
                    newCount++;
                    request = new Pending(key(op, internal), suggestion(internal), now, now, 0, false);
                }
                send(request);
            }
            retransmitOverdue();
            LockSupport.parkNanos(Math.max(100_000, Math.min(next - System.nanoTime(), 1_000_000)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            retransmitOverdue();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        long seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L);
        synchronized (stats) {
            for (Pending p : pending.values()) {
                stats.errors++;
                System.out.printf("ERROR %s no reply at all (%d retransmits)%n", describe(p.key()), p.retransmits());
            }
            System.out.printf("SUMMARY sent=%d answered=%d errors=%d retransmits=%d new=%d live=%d seconds=%d"
                    + " rate=%d p50us=%d p99us=%d maxus=%d%n", stats.sent, stats.answered, stats.errors,
                    stats.retransmits, newCount, live.size(), seconds, stats.sent / seconds,
                    stats.percentileMicros(0.5), stats.percentileMicros(0.99), stats.maxLatencyNanos / 1000);
        }
        System.out.flush();
    }

    private void send(Pending request) {
        pending.put(request.key(), request);
        int op = request.key() >> 16;
        int internal = request.key() & 0xffff;
        ByteBuffer packet = ByteBuffer.allocate(12).put((byte) 0).put((byte) op).putShort((short) 0)
                .putShort((short) internal).putShort((short) request.suggested()).putInt((int) LIFETIME).flip();
        try {
            channel.write(packet);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        synchronized (stats) {
            stats.sent++;
        }
    }

    private void retransmitOverdue() {
        long now = System.nanoTime();
        for (Pending p : pending.values()) {
            // RFC 6886 §3.1: 250 ms, doubling
            if (now - p.lastSent() >= RETRANSMIT_NANOS << Math.min(p.retransmits(), 5)) {
                Pending again = new Pending(p.key(), p.suggested(), p.firstSent(), now, p.retransmits() + 1,
                        p.renewal());
                if (pending.replace(p.key(), p, again)) {
                    synchronized (stats) {
                        stats.retransmits++;
                        System.out.printf("RETRANSMIT %s %s after %d ms%n", Instant.now(), describe(p.key()),
                                (now - p.firstSent()) / 1_000_000);
                    }
                    resend(again);
                }
            }
        }
    }

    private void resend(Pending request) {
        int op = request.key() >> 16;
        int internal = request.key() & 0xffff;
        ByteBuffer packet = ByteBuffer.allocate(12).put((byte) 0).put((byte) op).putShort((short) 0)
                .putShort((short) internal).putShort((short) request.suggested()).putInt((int) LIFETIME).flip();
        try {
            channel.write(packet);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Receiver thread: blocks in read (a daemon thread; main exits the JVM when done). */
    private void receive() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        while (running.get()) {
            buffer.clear();
            try {
                channel.read(buffer);
            } catch (java.net.PortUnreachableException e) {
                error("ICMP port unreachable: nothing listens on the gateway's port 5351");
                continue;
            } catch (IOException e) {
                if (running.get()) {
                    error("receive failed: " + e);
                }
                return;
            }
            handle(buffer.flip());
        }
    }

    private void handle(ByteBuffer reply) {
        long now = System.nanoTime();
        if (reply.remaining() != 16 || reply.get(0) != 0 || (reply.get(1) & 0xff) < 129) {
            error("malformed reply of " + reply.remaining() + " bytes");
            return;
        }
        int op = (reply.get(1) & 0xff) - 128;
        int result = reply.getShort(2) & 0xffff;
        int internal = reply.getShort(8) & 0xffff;
        int external = reply.getShort(10) & 0xffff;
        long lifetime = reply.getInt(12) & 0xffffffffL;
        int key = key(op, internal);
        Pending p = pending.get(key);
        if (p == null) {
            return; // the answer to a retransmission whose first answer arrived already
        }
        try {
            settle(p, key, now, result, external, lifetime);
        } finally {
            // only now: the fill loop ends when nothing is pending, and must then find this mapping in live
            pending.remove(key);
        }
    }

    private void settle(Pending p, int key, long now, int result, int external, long lifetime) {
        stats.answered(now - p.firstSent());
        if (now - p.firstSent() > SLOW_NANOS) {
            System.out.printf("SLOW %s %s after %d ms%n", Instant.now(), describe(key),
                    TimeUnit.NANOSECONDS.toMillis(now - p.firstSent()));
        }
        if (result != 0) {
            error(describe(key) + " result " + result + (p.renewal() ? " (renewal)" : " (new)"));
            return;
        }
        if (lifetime == 0 || external == 0) {
            error(describe(key) + " granted lifetime " + lifetime + " external " + external);
            return;
        }
        if (p.renewal() && external != p.suggested()) {
            error(describe(key) + " renewal moved from " + p.suggested() + " to " + external);
        }
        if (live.put(key, external) == null) {
            liveKeys.add(key);
        }
    }

    private void error(String what) {
        synchronized (stats) {
            stats.errors++;
            System.out.printf("ERROR %s %s%n", Instant.now(), what);
        }
    }

    private void writeMappings(Path file) throws IOException {
        StringBuilder text = new StringBuilder();
        live.forEach((k, external) -> text.append(describe(k)).append(' ').append(external).append('\n'));
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
