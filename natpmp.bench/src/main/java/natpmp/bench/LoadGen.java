// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * NAT-PMP load generator for the namespace lab. Each client is one thread with one UDP socket (so its own source
 * port) that sends a request, waits for the answer (or a timeout) and sends the next: a closed loop. The
 * {@code burst} mode is the exception: every client sends all its requests at once and then collects answers.
 *
 * <p>Prints one line on standard output, {@code result key=value ...}, which {@code bench.sh} turns into its table;
 * run with {@code -h} for the modes and options. Exit status 0 when every request was answered with success, 1
 * otherwise, 2 for a usage error.
 */
public final class LoadGen {
    private static final int USAGE = 2;
    private static final long NANOS_PER_MILLI = 1_000_000L;

    private final Options options;
    /** The Create requests of map and fill, to collect what they were granted once the clients are done. */
    private final List<Requests> made = new ArrayList<>();

    private LoadGen(Options options) {
        this.options = options;
    }

    /**
     * @param args see {@link Options#usage()}
     */
    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println("LoadGen: " + e.getMessage());
            System.exit(USAGE);
            return;
        }
        if (options.mode() == Mode.HELP) {
            System.out.println(Options.usage());
            return;
        }
        try {
            Outcome outcome = new LoadGen(options).run();
            System.out.println(outcome.line(options));
            System.exit(outcome.clean() ? 0 : 1);
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            System.err.println("LoadGen: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(1);
        }
    }

    /** What a benchmark run does. */
    enum Mode {
        /** print usage */
        HELP,
        /** opcode 0 until the first answer or the duration runs out */
        PROBE,
        /** opcode 0 to the echo server: the reference ceiling */
        ECHO,
        /** opcode 0 to the daemon */
        OP0,
        /** new mappings for the duration; granted ones are written to the ports file */
        MAP,
        /** the mappings in the ports file, requested again for the duration */
        RENEW,
        /** deletes the mappings in the ports file, each once */
        DELETE,
        /** creates --count mappings as fast as the clients can */
        FILL,
        /** all clients send their share of --count new mappings at once */
        BURST
    }

    /**
     * The command line.
     *
     * @param mode       what to do
     * @param server     daemon (or echo server) address
     * @param clients    concurrent clients
     * @param durationMs measured time for the timed modes
     * @param warmupMs   unmeasured time before it
     * @param timeoutMs  how long to wait for an answer before counting a timeout and moving on
     * @param lateMs     answers slower than this count as late
     * @param count      mappings for fill and burst; upper bound of new ports for map
     * @param basePort   first internal port used by map, fill and burst
     * @param lifetime   requested lifetime, seconds
     * @param opcode     1 (UDP) or 2 (TCP) mappings
     * @param ports      file of granted mappings (written by map/fill/burst, read by renew/delete), or null
     * @param reference  echo server measured in alternation with the daemon in timed modes, or null
     */
    record Options(Mode mode, InetSocketAddress server, int clients, long durationMs, long warmupMs, long timeoutMs,
            long lateMs, int count, int basePort, long lifetime, int opcode, Path ports,
            InetSocketAddress reference) {

        static Options parse(List<String> args) {
            if (args.isEmpty()) {
                throw new IllegalArgumentException("missing mode (try -h)");
            }
            Mode mode = switch (args.get(0)) {
                case "-h", "--help", "help" -> Mode.HELP;
                default -> {
                    try {
                        yield Mode.valueOf(args.get(0).toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(args.get(0) + ": unknown mode (try -h)");
                    }
                }
            };
            InetSocketAddress server = null;
            int clients = 1;
            long durationMs = 3000;
            long warmupMs = 500;
            long timeoutMs = 1000;
            long lateMs = 250;
            int count = -1;
            int basePort = 30000;
            long lifetime = 3600;
            int opcode = Wire.OP_MAP_UDP;
            Path ports = null;
            InetSocketAddress reference = null;
            for (int i = 1; i < args.size(); i++) {
                String arg = args.get(i);
                String value = i + 1 < args.size() ? args.get(i + 1) : null;
                if (value == null) {
                    throw new IllegalArgumentException(arg + ": missing value");
                }
                i++;
                switch (arg) {
                    case "--server" -> server = address(arg, value);
                    case "--clients" -> clients = (int) number(arg, value, 1, 1024);
                    case "--duration-ms" -> durationMs = number(arg, value, 1, 3_600_000);
                    case "--warmup-ms" -> warmupMs = number(arg, value, 0, 3_600_000);
                    case "--timeout-ms" -> timeoutMs = number(arg, value, 1, 60_000);
                    case "--late-ms" -> lateMs = number(arg, value, 1, 60_000);
                    case "--count" -> count = (int) number(arg, value, 1, 65535);
                    case "--base-port" -> basePort = (int) number(arg, value, 1, 65535);
                    case "--lifetime" -> lifetime = number(arg, value, 1, 0xffffffffL);
                    case "--proto" -> opcode = switch (value) {
                        case "udp" -> Wire.OP_MAP_UDP;
                        case "tcp" -> Wire.OP_MAP_TCP;
                        default -> throw new IllegalArgumentException(arg + ": udp or tcp, not '" + value + "'");
                    };
                    case "--ports" -> ports = Path.of(value);
                    case "--reference" -> reference = address(arg, value);
                    default -> throw new IllegalArgumentException(arg + ": unknown option (try -h)");
                }
            }
            if (mode != Mode.HELP && server == null) {
                throw new IllegalArgumentException("--server ADDR:PORT is required");
            }
            if ((mode == Mode.RENEW || mode == Mode.DELETE) && ports == null) {
                throw new IllegalArgumentException(mode.name().toLowerCase(Locale.ROOT) + " needs --ports FILE");
            }
            if ((mode == Mode.FILL || mode == Mode.BURST) && count < 0) {
                count = mode == Mode.BURST ? 200 : 10_000;
            }
            if (count < 0) {
                count = 65536 - basePort;
            }
            if (basePort + count - 1 > 65535) {
                throw new IllegalArgumentException("--base-port " + basePort + " with --count " + count
                        + " runs past port 65535");
            }
            return new Options(mode, server, clients, durationMs, warmupMs, timeoutMs, lateMs, count, basePort,
                    lifetime, opcode, ports, reference);
        }

        private static long number(String option, String value, long min, long max) {
            try {
                long n = Long.parseLong(value);
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + ": expected " + min + ".." + max + ", not '" + value + "'");
        }

        private static InetSocketAddress address(String option, String value) {
            int colon = value.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(option + ": expected ADDR:PORT, not '" + value + "'");
            }
            try {
                return new InetSocketAddress(InetAddress.getByName(value.substring(0, colon)),
                        (int) number(option, value.substring(colon + 1), 1, 65535));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(option + ": unknown host in '" + value + "'");
            }
        }

        static String usage() {
            return String.join("\n",
                    "usage: LoadGen MODE --server ADDR:PORT [options]",
                    "modes:",
                    "  probe   opcode 0 until the first answer (at most --duration-ms); exit 0 when answered",
                    "  echo    opcode 0 against a UDP echo server (the reference ceiling), timed",
                    "  op0     opcode 0 against the daemon, timed",
                    "  map     new mappings (internal ports from --base-port, one each), timed; writes --ports",
                    "  renew   the mappings in --ports requested again round and round, timed",
                    "  delete  deletes each mapping in --ports once",
                    "  fill    creates --count (10000) mappings from --base-port; writes --ports",
                    "  burst   every client sends its share of --count (200) new mappings at once",
                    "options:",
                    "  --clients N (1)  --duration-ms (3000)  --warmup-ms (500)  --timeout-ms (1000)",
                    "  --late-ms (250)  --count N  --base-port P (30000)  --lifetime S (3600)",
                    "  --proto udp|tcp (udp)  --ports FILE",
                    "  --reference ADDR:PORT  echo server to measure in alternation with the daemon (timed modes:",
                    "                         op0, map, renew), in ~200 ms slices, half of the time each",
                    "output: one line 'result mode=.. clients=.. ops=.. seconds=.. rate=.. p50_ms=.. p99_ms=..",
                    "        max_ms=.. late=.. timeouts=.. errors=..' plus the same with prefix ref_ for --reference");
        }
    }

    /**
     * A finished run.
     *
     * @param stats    latencies of the measured answers
     * @param seconds  measured time
     * @param timeouts measured requests left unanswered
     * @param errors    measured answers that were not a success
     * @param reference the echo server measured in the same run, interleaved ({@code --reference})
     */
    record Outcome(LatencyStats stats, double seconds, int timeouts, int errors, Optional<Outcome> reference) {

        Outcome(LatencyStats stats, double seconds, int timeouts, int errors) {
            this(stats, seconds, timeouts, errors, Optional.empty());
        }

        boolean clean() {
            return stats.count() > 0 && timeouts == 0 && errors == 0
                    && reference.map(Outcome::clean).orElse(true);
        }

        String line(Options options) {
            String head = String.format(Locale.ROOT, "result mode=%s clients=%d ",
                    options.mode().name().toLowerCase(Locale.ROOT), options.clients());
            return head + fields("") + reference.map(r -> " " + r.fields("ref_")).orElse("");
        }

        private String fields(String prefix) {
            double rate = seconds > 0 ? stats.count() / seconds : 0;
            return String.format(Locale.ROOT,
                    "%1$sops=%2$d %1$sseconds=%3$.3f %1$srate=%4$.1f %1$sp50_ms=%5$.3f %1$sp99_ms=%6$.3f"
                            + " %1$smax_ms=%7$.3f %1$slate=%8$d %1$stimeouts=%9$d %1$serrors=%10$d",
                    prefix, stats.count(), seconds, rate, millis(stats.p50Nanos()), millis(stats.p99Nanos()),
                    millis(stats.maxNanos()), stats.late(), timeouts, errors);
        }

        private static double millis(long nanos) {
            return nanos / (double) NANOS_PER_MILLI;
        }
    }

    /** Per-client results, filled by the client thread and read after it has been joined. */
    private static final class Tally {
        final Samples samples = new Samples();
        int timeouts;
        int errors;
        long finishedAt;
        IOException failure;
    }

    private Outcome run() throws IOException, InterruptedException {
        return switch (options.mode()) {
            case HELP -> throw new IllegalStateException("help is handled by main");
            case PROBE -> probe();
            case ECHO, OP0 -> closedLoop(i -> new Requests.Announce(), true);
            case MAP -> created(closedLoop(this::create, true));
            case FILL -> created(closedLoop(this::create, false));
            case RENEW -> {
                List<List<Requests.Granted>> shares = shares(readPorts());
                yield closedLoop(i -> new Requests.Renew(options.opcode(), shares.get(i), options.lifetime()), true);
            }
            case DELETE -> {
                List<List<Requests.Granted>> shares = shares(readPorts());
                yield closedLoop(i -> new Requests.Delete(options.opcode(), shares.get(i)), false);
            }
            case BURST -> burst();
        };
    }

    // ---- closed loop ----------------------------------------------------------------------------------------

    private Requests create(int client) {
        Requests r = new Requests.Create(options.opcode(), portsOf(client), options.lifetime());
        synchronized (made) {
            made.add(r);
        }
        return r;
    }

    /** Client {@code i} gets ports base+i, base+i+clients, ... below base+count, so clients never collide. */
    private int[] portsOf(int client) {
        int n = options.count() / options.clients() + (client < options.count() % options.clients() ? 1 : 0);
        int[] ports = new int[n];
        for (int k = 0; k < n; k++) {
            ports[k] = options.basePort() + client + k * options.clients();
        }
        return ports;
    }

    private Outcome created(Outcome outcome) throws IOException {
        List<Requests.Granted> granted = new ArrayList<>();
        synchronized (made) {
            for (Requests r : made) {
                granted.addAll(((Requests.Create) r).granted());
            }
        }
        writePorts(granted);
        return outcome;
    }

    /**
     * Runs every client's closed loop: send, wait for the matching answer or the timeout, repeat. With a reference
     * server ({@code --reference}), all clients switch between the daemon and the reference together, in equal time
     * slices of about 200 ms, so both are measured under the same conditions of the host; each gets half of the
     * measured time.
     *
     * @param timed true: run for warm-up plus duration and measure only the duration; false: run until every
     *              client has nothing more to send and measure all of it
     */
    private Outcome closedLoop(IntFunction<Requests> requestsOf, boolean timed)
            throws IOException, InterruptedException {
        int n = options.clients();
        boolean paired = timed && options.reference() != null;
        List<Lane[]> lanes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Waiting> waiting = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        long[] window = new long[2];
        long durationNanos = options.durationMs() * NANOS_PER_MILLI;
        long sliceNanos = durationNanos / (2 * Math.max(1, options.durationMs() / 400));
        for (int i = 0; i < n; i++) {
            Lane[] mine = paired
                    ? new Lane[] {new Lane(options.server(), requestsOf.apply(i)),
                        new Lane(options.reference(), new Requests.Announce())}
                    : new Lane[] {new Lane(options.server(), requestsOf.apply(i))};
            Waiting w = new Waiting();
            lanes.add(mine);
            waiting.add(w);
            Thread t = new Thread(() -> {
                try {
                    ready.countDown();
                    go.await();
                    clientLoop(mine, w, window[0], timed ? window[1] : Long.MAX_VALUE, sliceNanos);
                } catch (IOException e) {
                    mine[0].tally.failure = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    mine[0].tally.finishedAt = System.nanoTime();
                }
            }, "client-" + i);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        Thread watchdog = new Thread(() -> watch(threads, waiting), "watchdog");
        watchdog.setDaemon(true);
        ready.await();
        long start = System.nanoTime();
        window[0] = timed ? start + options.warmupMs() * NANOS_PER_MILLI : start;
        window[1] = window[0] + durationNanos;
        watchdog.start();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        watchdog.interrupt();
        long end = 0;
        List<Tally> daemon = new ArrayList<>();
        List<Tally> reference = new ArrayList<>();
        for (Lane[] mine : lanes) {
            if (mine[0].tally.failure != null) {
                throw mine[0].tally.failure;
            }
            end = Math.max(end, mine[0].tally.finishedAt);
            daemon.add(mine[0].tally);
            if (paired) {
                reference.add(mine[1].tally);
            }
        }
        // timed: the measured window, or less when every client ran out of requests (ports) before its end
        double seconds = Math.max(1e-9, (timed ? Math.min(end, window[1]) - window[0] : end - window[0]) / 1e9);
        if (!paired) {
            return summarise(daemon, seconds);
        }
        Outcome ref = summarise(reference, seconds / 2);
        Outcome main = summarise(daemon, seconds / 2);
        return new Outcome(main.stats(), main.seconds(), main.timeouts(), main.errors(), Optional.of(ref));
    }

    /** One client's traffic to one server: its own socket (source port), requests and measurements. */
    private static final class Lane {
        final InetSocketAddress server;
        final Requests requests;
        final Tally tally = new Tally();
        DatagramChannel channel;

        Lane(InetSocketAddress server, Requests requests) {
            this.server = server;
            this.requests = requests;
        }
    }

    /**
     * The request a client is waiting for: its send time, 0 when not waiting, {@link #TIMED_OUT} once the watchdog
     * has claimed it. Whoever moves it away from the send time first decides whether it was answered in time.
     */
    private static final class Waiting extends AtomicLong {
        static final long TIMED_OUT = -1;
        private static final long serialVersionUID = 1L;
    }

    /**
     * Interrupts clients that have waited longer than the timeout. The clients block in a plain channel read
     * (one system call per answer, no poll: a timed read would cost the clients throughput that the benchmark
     * should leave to the daemon); the interrupt closes the channel and the client moves on with a fresh socket.
     */
    private void watch(List<Thread> threads, List<Waiting> waiting) {
        long timeoutNanos = options.timeoutMs() * NANOS_PER_MILLI;
        long tick = Math.max(1, Math.min(10, options.timeoutMs() / 10));
        while (!Thread.currentThread().isInterrupted()) {
            long now = System.nanoTime();
            for (int i = 0; i < threads.size(); i++) {
                Waiting w = waiting.get(i);
                long sent = w.get();
                if (sent > 0 && now - sent > timeoutNanos && w.compareAndSet(sent, Waiting.TIMED_OUT)) {
                    threads.get(i).interrupt();
                }
            }
            try {
                Thread.sleep(tick);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private Outcome summarise(List<Tally> tallies, double seconds) {
        List<Samples> parts = new ArrayList<>();
        int timeouts = 0;
        int errors = 0;
        for (Tally t : tallies) {
            parts.add(t.samples);
            timeouts += t.timeouts;
            errors += t.errors;
        }
        LatencyStats stats = LatencyStats.of(Samples.merge(parts), options.lateMs() * NANOS_PER_MILLI);
        return new Outcome(stats, seconds, timeouts, errors);
    }

    /**
     * One client: requests sent at or after {@code measureFrom} are measured; none is sent after {@code stopAt}.
     * With two lanes, time slice k (counted from {@code measureFrom}) goes to lane k mod 2.
     */
    private void clientLoop(Lane[] lanes, Waiting waiting, long measureFrom, long stopAt, long sliceNanos)
            throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(Wire.MAP_REQUEST_LENGTH);
        ByteBuffer in = ByteBuffer.allocateDirect(64);
        try {
            for (Lane lane : lanes) {
                lane.channel = openChannel(lane.server);
            }
            while (true) {
                long now = System.nanoTime();
                if (now >= stopAt) {
                    break;
                }
                Lane lane = lanes.length == 1 ? lanes[0]
                        : lanes[(int) Math.floorMod(Math.floorDiv(now - measureFrom, sliceNanos), 2L)];
                if (!lane.requests.next(out)) {
                    break;
                }
                exchange(lane, out, in, waiting, measureFrom);
            }
        } finally {
            waiting.set(0);
            for (Lane lane : lanes) {
                if (lane.channel != null) {
                    lane.channel.close();
                }
            }
        }
    }

    /** Sends the request in {@code out} and waits for its answer, or until the watchdog declares a timeout. */
    private void exchange(Lane lane, ByteBuffer out, ByteBuffer in, Waiting waiting, long measureFrom)
            throws IOException {
        long sent = System.nanoTime();
        boolean measured = sent >= measureFrom;
        waiting.set(sent);
        try {
            lane.channel.write(out);
            while (true) {
                in.clear();
                try {
                    lane.channel.read(in);
                } catch (PortUnreachableException e) {
                    continue; // nobody listens (yet): wait for the timeout like for a lost answer
                }
                long answered = System.nanoTime();
                in.flip();
                Wire.Reply reply = Wire.reply(in);
                if (reply == null || !lane.requests.matches(reply)) {
                    continue; // junk, or an answer to an earlier request: keep waiting for ours
                }
                if (!waiting.compareAndSet(sent, 0)) {
                    throw new ClosedByInterruptException(); // answered, but after the watchdog gave up
                }
                boolean ok = lane.requests.succeeded(reply);
                if (measured) {
                    lane.tally.samples.add(answered - sent);
                    lane.tally.errors += ok ? 0 : 1;
                }
                return;
            }
        } catch (ClosedByInterruptException e) {
            // the watchdog claimed this request (TIMED_OUT) and interrupts, or has interrupted, us
            while (!Thread.interrupted()) {
                Thread.onSpinWait();
            }
            waiting.set(0);
            lane.tally.timeouts += measured ? 1 : 0;
            lane.channel.close();
            lane.channel = openChannel(lane.server); // fresh source port: a late answer cannot be taken for a new one
        }
    }

    private static DatagramChannel openChannel(InetSocketAddress server) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        channel.connect(server);
        return channel;
    }

    private DatagramSocket open() throws IOException {
        DatagramSocket socket = new DatagramSocket();
        socket.connect(options.server());
        return socket;
    }

    // ---- burst -----------------------------------------------------------------------------------------------

    /**
     * Every client sends all of its requests back to back, then collects the answers; latency of each request is
     * from its own send to its answer. Nothing is retransmitted, so an unanswered request is a timeout.
     */
    private Outcome burst() throws IOException, InterruptedException {
        int n = options.clients();
        List<Tally> tallies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<List<Requests.Granted>> granted = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < n; i++) {
            int[] ports = portsOf(i);
            Tally tally = new Tally();
            List<Requests.Granted> mine = new ArrayList<>();
            tallies.add(tally);
            granted.add(mine);
            threads.add(new Thread(() -> {
                try (DatagramSocket socket = open()) {
                    socket.setReceiveBufferSize(1 << 20);
                    ready.countDown();
                    go.await();
                    burstClient(socket, ports, tally, mine);
                } catch (IOException e) {
                    tally.failure = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    tally.finishedAt = System.nanoTime();
                }
            }, "burst-" + i));
        }
        threads.forEach(Thread::start);
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long end = start;
        List<Requests.Granted> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Tally t = tallies.get(i);
            if (t.failure != null) {
                throw t.failure;
            }
            end = Math.max(end, t.finishedAt);
            all.addAll(granted.get(i));
        }
        writePorts(all);
        return summarise(tallies, (end - start) / 1e9);
    }

    private void burstClient(DatagramSocket socket, int[] ports, Tally tally, List<Requests.Granted> granted)
            throws IOException {
        ByteBuffer out = ByteBuffer.allocate(Wire.MAP_REQUEST_LENGTH);
        DatagramPacket sendPacket = new DatagramPacket(out.array(), 0);
        long[] sent = new long[ports.length];
        for (int k = 0; k < ports.length; k++) {
            Wire.mapRequest(out, options.opcode(), ports[k], ports[k], options.lifetime());
            sendPacket.setData(out.array(), 0, out.limit());
            sent[k] = System.nanoTime();
            socket.send(sendPacket);
        }
        byte[] in = new byte[64];
        DatagramPacket receivePacket = new DatagramPacket(in, in.length);
        long deadline = System.nanoTime() + options.timeoutMs() * NANOS_PER_MILLI;
        int open = ports.length;
        while (open > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            receivePacket.setData(in, 0, in.length);
            try {
                socket.receive(receivePacket);
            } catch (SocketTimeoutException e) {
                continue;
            }
            long answered = System.nanoTime();
            Wire.Reply reply = Wire.reply(ByteBuffer.wrap(in, 0, receivePacket.getLength()));
            if (reply == null || reply.opcode() != Wire.REPLY_BIT + options.opcode()) {
                continue;
            }
            int k = indexOf(ports, reply.internalPort());
            if (k < 0 || sent[k] == 0) {
                tally.errors++; // an error answer cut short, or a duplicate: cannot be matched to a request
                continue;
            }
            tally.samples.add(answered - sent[k]);
            sent[k] = 0;
            open--;
            if (reply.result() == 0 && reply.lifetime() > 0) {
                granted.add(new Requests.Granted(reply.internalPort(), reply.externalPort()));
            } else {
                tally.errors++;
            }
        }
        tally.timeouts += open;
    }

    private static int indexOf(int[] ports, int port) {
        for (int k = 0; k < ports.length; k++) {
            if (ports[k] == port) {
                return k;
            }
        }
        return -1;
    }

    // ---- probe -----------------------------------------------------------------------------------------------

    private Outcome probe() throws IOException {
        long deadline = System.nanoTime() + options.durationMs() * NANOS_PER_MILLI;
        ByteBuffer out = ByteBuffer.allocate(Wire.ANNOUNCE_REQUEST_LENGTH);
        Wire.announceRequest(out);
        byte[] in = new byte[64];
        try (DatagramSocket socket = open()) {
            socket.setSoTimeout(250); // RFC 6886 §3.1: first retransmission after 250 ms
            while (System.nanoTime() < deadline) {
                long sent = System.nanoTime();
                try {
                    socket.send(new DatagramPacket(out.array(), out.limit()));
                    DatagramPacket p = new DatagramPacket(in, in.length);
                    socket.receive(p);
                    Wire.Reply reply = Wire.reply(ByteBuffer.wrap(in, 0, p.getLength()));
                    if (reply != null && reply.opcode() == Wire.REPLY_BIT && reply.result() == 0) {
                        long took = System.nanoTime() - sent;
                        System.err.println("LoadGen: probe answered, external address "
                                + InetAddress.getByAddress(new byte[] {in[8], in[9], in[10], in[11]}).getHostAddress());
                        return new Outcome(LatencyStats.of(new long[] {took}, options.lateMs() * NANOS_PER_MILLI),
                                took / 1e9, 0, 0);
                    }
                } catch (SocketTimeoutException e) {
                    // not up yet: ask again
                } catch (IOException e) {
                    // ICMP port unreachable before the daemon binds shows up as an exception on a connected socket
                    sleepQuietly(250);
                }
            }
        }
        return new Outcome(LatencyStats.of(new long[0], 1), options.durationMs() / 1000.0, 1, 0);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- ports file ------------------------------------------------------------------------------------------

    private void writePorts(List<Requests.Granted> granted) throws IOException {
        if (options.ports() == null) {
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Requests.Granted g : granted) {
            b.append(g.internalPort()).append(' ').append(g.externalPort()).append('\n');
        }
        Files.writeString(options.ports(), b, StandardCharsets.US_ASCII);
    }

    private List<Requests.Granted> readPorts() throws IOException {
        List<Requests.Granted> granted = new ArrayList<>();
        for (String line : Files.readAllLines(options.ports(), StandardCharsets.US_ASCII)) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 2) {
                granted.add(new Requests.Granted(Integer.parseInt(f[0]), Integer.parseInt(f[1])));
            }
        }
        if (granted.isEmpty()) {
            throw new IOException(options.ports() + ": no mappings (run map or fill first)");
        }
        return granted;
    }

    /** Deals the mappings out to the clients round robin; every client gets at least one. */
    private List<List<Requests.Granted>> shares(List<Requests.Granted> granted) {
        int n = options.clients();
        if (granted.size() < n) {
            throw new IllegalArgumentException(granted.size() + " mappings for " + n + " clients");
        }
        List<List<Requests.Granted>> shares = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            shares.add(new ArrayList<>());
        }
        for (int k = 0; k < granted.size(); k++) {
            shares.get(k % n).add(granted.get(k));
        }
        return shares;
    }
}
