// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import natpmp.service.internal.core.Addresses;
import natpmp.service.internal.core.GatewayPorts;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Not a test: a micro harness that drives a {@link ListenerRuntime} over loopback with an in-memory backend
 * and prints requests per second next to a trivial single-thread UDP echo server measured in the same run.
 * Run with {@code java -cp target/classes:target/test-classes:<deps> natpmp.service.internal.osgi.RuntimeMicroBench
 * [mappings] [seconds]}. Nothing here asserts time.
 */
public final class RuntimeMicroBench {
    private RuntimeMicroBench() {
    }

    /**
     * @param args optional: number of pre-created mappings (10000), seconds per measurement (3)
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        int mappings = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createTempDirectory("natpmp-bench");
        DatagramSocket sink = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        ListenerRuntime.Params params = new ListenerRuntime.Params(0,
                new InetSocketAddress(sink.getLocalAddress(), sink.getLocalPort()), 1000,
                () -> System.nanoTime() / 1_000_000, System::currentTimeMillis,
                name -> Optional.of(Addresses.parse("203.0.113.1")), GatewayPorts.NONE, new SplittableRandom(3));
        ListenerRuntime runtime = new ListenerRuntime(ListenerSettings.parse(Configs.config("lan",
                new String[] {"127.0.0.1/24"}, "external_interface", "wan-bench", "quota_per_client", 100_000,
                "rate_per_client", 1e9, "rate_burst", 1e9, "announce", false)), Optional.of(dir.resolve("leases.txt")),
                params);
        runtime.backendBound(new FakeBackend("bench"));
        InetSocketAddress server = runtime.boundAddresses().get(0);
        EchoServer echo = new EchoServer();
        try {
            // pre-create the table: 8 clients, ports 20000.. (suggested external = internal)
            int perClient = mappings / 8;
            long t0 = System.nanoTime();
            run(8, 3600, c -> new Create(perClient), server, Long.MAX_VALUE);
            System.out.printf("setup: %d mappings in %.1f s%n", perClient * 8, (System.nanoTime() - t0) / 1e9);
            for (int clients : new int[] {1, 8}) {
                double e = run(clients, seconds, c -> new Fixed(hex("0000")), echo.address(), Long.MAX_VALUE);
                String ec = CPU.get();
                double o = run(clients, seconds, c -> new Fixed(hex("0000")), server, Long.MAX_VALUE);
                String oc = CPU.get();
                double r = run(clients, seconds, c -> new Renew(Math.max(1, perClient)), server, Long.MAX_VALUE);
                String rc = CPU.get();
                double md = run(clients, seconds, c -> new MapDelete(), server, Long.MAX_VALUE);
                String mc = CPU.get();
                System.out.printf("%d client(s), %d mappings: echo %.0f/s | opcode0 %.0f/s (%.2f of echo)"
                        + " | renew %.0f/s (%.2f) | map+delete %.0f/s%n", clients, perClient * 8, e, o, o / e, r, r / e,
                        md);
                System.out.printf("  server CPU per reply: echo %s | opcode0 %s | renew %s | map+delete %s%n", ec, oc,
                        rc, mc);
            }
            System.out.printf("lease files: snapshot %d bytes, journal %d bytes; %s%n", size(dir.resolve("leases.txt")),
                    size(dir.resolve("leases.txt.journal")), rss());
        } finally {
            runtime.close();
            echo.close();
            sink.close();
        }
    }

    private static String rss() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return "RSS unknown";
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("VmRSS") || l.startsWith("VmHWM"))
                .map(l -> l.replaceAll("\\s+", " ")).reduce((x, y) -> x + ", " + y).orElse("RSS unknown");
    }

    private static long size(Path p) throws IOException {
        return Files.exists(p) ? Files.size(p) : -1;
    }

    private interface Script {
        /** @return the next request, null when done */
        byte[] next();
    }

    private record Fixed(byte[] bytes) implements Script {
        @Override
        public byte[] next() {
            return bytes;
        }
    }

    private static final class Create implements Script {
        private final int count;
        private int i;

        Create(int count) {
            this.count = count;
        }

        @Override
        public byte[] next() {
            return i < count ? map(1, 20000 + i, 20000 + i++, 3600) : null;
        }
    }

    private static final class Renew implements Script {
        private final int count;
        private int i;

        Renew(int count) {
            this.count = count;
        }

        @Override
        public byte[] next() {
            return map(1, 20000 + i % count, 20000 + i++ % count, 3600);
        }
    }

    /** Alternates creating and deleting one mapping per client on a port outside the pre-created ones. */
    private static final class MapDelete implements Script {
        private int i;

        @Override
        public byte[] next() {
            return i++ % 2 == 0 ? map(2, 10000, 10000, 3600) : map(2, 10000, 0, 0);
        }
    }

    private static byte[] map(int op, int in, int ext, long lifetime) {
        return ByteBuffer.allocate(12).put((byte) 0).put((byte) op).putShort((short) 0).putShort((short) in)
                .putShort((short) ext).putInt((int) lifetime).array();
    }

    private static byte[] hex(String h) {
        return java.util.HexFormat.of().parseHex(h);
    }

    /** CPU time per reply of the server threads (echo, natpmp-*) in the last run: robust on a busy machine. */
    private static final java.util.concurrent.atomic.AtomicReference<String> LAST_CPU =
            new java.util.concurrent.atomic.AtomicReference<>("");
    private static final java.util.function.Supplier<String> CPU = LAST_CPU::get;

    private static long serverCpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (java.lang.management.ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti != null && (ti.getThreadName().startsWith("natpmp-") || ti.getThreadName().equals("echo"))) {
                long t = mx.getThreadCpuTime(ti.getThreadId());
                sum += Math.max(0, t);
            }
        }
        return sum;
    }

    /** @return replies per second over all clients */
    private static double run(int clients, int seconds, IntFunction<Script> scripts, InetSocketAddress to, long unused)
            throws Exception {
        AtomicLong replies = new AtomicLong();
        AtomicLong worstNanos = new AtomicLong();
        long cpuBefore = serverCpuNanos();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            Script script = scripts.apply(c);
            String address = "127.0.0." + (2 + c);
            Thread t = new Thread(() -> {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0))) {
                    s.setSoTimeout(1000);
                    DatagramPacket in = new DatagramPacket(new byte[64], 64);
                    byte[] req;
                    while ((req = script.next()) != null && (script instanceof Create || System.nanoTime() < end)) {
                        long sent = System.nanoTime();
                        s.send(new DatagramPacket(req, req.length, to));
                        try {
                            s.receive(in);
                            replies.incrementAndGet();
                            worstNanos.accumulateAndGet(System.nanoTime() - sent, Math::max);
                        } catch (SocketTimeoutException e) {
                            // lost: send the next one
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        LAST_CPU.set(String.format("%.1f us", (serverCpuNanos() - cpuBefore) / 1e3 / Math.max(1, replies.get())));
        System.out.printf("  (%d client(s) to %s: worst reply %.1f ms)%n", clients, to, worstNanos.get() / 1e6);
        return replies.get() / elapsed;
    }

    /** The ceiling: a single-thread echo server. */
    private static final class EchoServer implements AutoCloseable {
        private final DatagramSocket socket;
        private final Thread thread;

        EchoServer() throws IOException {
            socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            thread = new Thread(() -> {
                DatagramPacket p = new DatagramPacket(new byte[1100], 1100);
                while (!socket.isClosed()) {
                    try {
                        p.setLength(1100);
                        socket.receive(p);
                        socket.send(p);
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "echo");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort());
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
