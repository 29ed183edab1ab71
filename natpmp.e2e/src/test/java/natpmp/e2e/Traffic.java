// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real traffic with socat: listeners that log every datagram or connection together with the peer's address
 * (socat {@code -d -d}), and senders that push a unique token. "Traffic passes" means the listener printed the
 * token; every send uses a fresh ephemeral source port (unless a test pins one), so an old conntrack entry can never
 * make a deleted mapping look alive.
 */
public final class Traffic {

    private static final Pattern PEER = Pattern.compile(
            "(?:received packet with \\d+ bytes from|accepting connection from) AF=2 (\\d+\\.\\d+\\.\\d+\\.\\d+):(\\d+)");

    private final NamespaceLab lab;
    private final AtomicInteger counter = new AtomicInteger();
    private final String run;

    /** @param lab the lab whose namespaces the traffic runs in */
    public Traffic(NamespaceLab lab) {
        this.lab = lab;
        byte[] random = new byte[2];
        new SecureRandom().nextBytes(random);
        this.run = HexFormat.of().formatHex(random);
    }

    /**
     * A socat listener.
     *
     * @param process the socat process
     * @param proto   "udp" or "tcp"
     * @param port    listening port
     */
    public record Listener(Background process, String proto, int port) {

        /**
         * @param token a token sent earlier
         * @return true when the listener printed it
         */
        public boolean received(String token) {
            return process.output().contains(token);
        }

        /** @return "address:port" of every peer socat logged, in order */
        public List<String> peers() {
            List<String> peers = new ArrayList<>();
            Matcher m = PEER.matcher(process.output());
            while (m.find()) {
                peers.add(m.group(1) + ":" + m.group(2));
            }
            return peers;
        }

        /** Stops the listener. */
        public void stop() {
            process.stop(Duration.ofSeconds(2));
        }
    }

    /** @return a token that appears nowhere else */
    public String token() {
        return "tok-" + run + "-" + counter.incrementAndGet() + "-end";
    }

    /**
     * Starts {@code socat -d -d -u UDP4-RECV:port STDOUT} (or TCP4-LISTEN with fork) and waits until it listens.
     *
     * @param ns    namespace
     * @param proto "udp" or "tcp"
     * @param port  port to listen on (all addresses of the namespace)
     * @return the ready listener
     */
    public Listener listen(String ns, String proto, int port) {
        String address = "udp".equals(proto) ? "UDP4-RECV:" + port + ",reuseaddr"
                : "TCP4-LISTEN:" + port + ",reuseaddr,fork";
        Background process = lab.start(ns, proto + "-listener-" + port, "socat", "-d", "-d", "-u", address, "STDOUT");
        String ready = "udp".equals(proto) ? "starting data transfer loop" : "listening on";
        if (!process.awaitOutput(out -> out.contains(ready), Duration.ofSeconds(10))) {
            throw new IllegalStateException("socat listener did not start: " + process + "\n" + process.output());
        }
        return new Listener(process, proto, port);
    }

    /**
     * Sends one token (one UDP datagram or one TCP connection) from {@code ns}.
     *
     * @param ns         sender namespace
     * @param proto      "udp" or "tcp"
     * @param host       destination address
     * @param port       destination port
     * @param token      payload
     * @param bind       source address to bind, or null
     * @param sourcePort source port to bind, or 0 for an ephemeral one
     * @return socat's result (a refused or timed-out TCP connect exits non-zero)
     */
    public ExecResult send(String ns, String proto, String host, int port, String token, String bind, int sourcePort) {
        StringBuilder address = new StringBuilder("udp".equals(proto) ? "UDP4-SENDTO:" : "TCP4:")
                .append(host).append(':').append(port);
        if ("tcp".equals(proto)) {
            address.append(",connect-timeout=2");
        }
        if (bind != null) {
            address.append(",bind=").append(bind);
        }
        if (sourcePort != 0) {
            address.append(",sourceport=").append(sourcePort).append(",reuseaddr");
        }
        return lab.exec(ns, (token + "\n").getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5),
                "socat", "-u", "STDIN", address.toString());
    }

    /**
     * Positive check: sends fresh tokens until one reaches {@code listener} or {@code timeout} passes (rules may
     * still be on their way into the kernel).
     *
     * @param ns         sender namespace
     * @param host       destination address
     * @param port       destination port
     * @param listener   where the token must arrive
     * @param timeout    deadline
     * @param bind       source address or null
     * @param sourcePort source port or 0
     * @return the token that arrived, or null when none did
     */
    public String deliver(String ns, String host, int port, Listener listener, Duration timeout, String bind,
            int sourcePort) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            String token = token();
            send(ns, listener.proto(), host, port, token, bind, sourcePort);
            if (listener.process().awaitOutput(out -> out.contains(token), Duration.ofMillis(800))) {
                return token;
            }
        } while (System.nanoTime() < deadline);
        return null;
    }

    /** {@link #deliver(String, String, int, Listener, Duration, String, int)} with an ephemeral source. */
    public boolean passes(String ns, String host, int port, Listener listener, Duration timeout) {
        return deliver(ns, host, port, listener, timeout, null, 0) != null;
    }

    /**
     * Negative check: sends three fresh tokens over about 1.5 s and reports whether any of them arrived within a
     * further second. Only meaningful after the same listener was shown to receive (positive control).
     *
     * @param ns       sender namespace
     * @param host     destination address
     * @param port     destination port
     * @param listener where the tokens must NOT arrive
     * @return true when none arrived
     */
    public boolean blocked(String ns, String host, int port, Listener listener) {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String token = token();
            tokens.add(token);
            send(ns, listener.proto(), host, port, token, null, 0);
            Waits.pause(Duration.ofMillis(500));
        }
        boolean any = listener.process().awaitOutput(out -> tokens.stream().anyMatch(out::contains),
                Duration.ofSeconds(1));
        return !any;
    }
}
