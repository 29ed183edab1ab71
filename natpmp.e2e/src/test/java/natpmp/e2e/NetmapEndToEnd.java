// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.LAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_PEER;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End to end for the subnet mapper's kernel data path (issue 5, SPEC section C): the real assembly started by
 * {@code ./natpmpd} in the gateway namespace of a {@link NamespaceLab}, the {@code natpmp.netmap} bundle copied into
 * the daemon's load folder as an operator does, its configuration as {@code .cfg} files there
 * ({@code natpmp.netmap.cfg} and one {@code natpmp.netmap.rule-NAME.cfg} per DNETMAP rule), and real UDP traffic
 * from extra addresses of the LAN host to a socat listener on the WAN peer, which logs every source it sees.
 *
 * <p>{@code queue.enabled} and {@code conntrack.enabled} are left at their defaults: enabling the mapper must be
 * enough. {@code dnat_expired=false}, so an expired binding leaves the kernel within a second (D8 as a flag) and the
 * host's next connection is decided again (D5). Each scenario has its own source subnet, so the rules of one never
 * decide another's hosts:
 * <pre>
 *  rule   rank subnet               prefix            ttl   reuse
 *  d3       10 192.168.50.16/28     198.18.0.0/24     600
 *  d4a      20 192.168.50.32/28     198.18.1.0/30     600
 *  d4b      21 192.168.50.32/28     198.18.2.0/32     600
 *  d5a      40 192.168.50.64/28     198.18.4.0/32       2
 *  d5b      41 192.168.50.64/28     198.18.5.0/32       8
 *  d5ra     50 192.168.50.80/28     198.18.6.0/32       2   true
 *  d5rb     51 192.168.50.80/28     198.18.7.0/32       8
 *  ttl      60 192.168.50.96/28     198.18.3.0/28       4
 * </pre>
 * The WAN peer routes 198.18.0.0/15 to the gateway. One lab and one daemon per class; tests run in order.
 * Subclasses choose the backend: {@link NetmapIptablesEndToEndTest} runs every scenario,
 * {@link NetmapNftablesEndToEnd} the basic data path.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
abstract class NetmapEndToEnd {

    /** UDP port of the WAN peer's listener. */
    protected static final int WAN_PORT = 7000;
    /** How many queue rules the rules above make (one per distinct subnet). */
    protected static final int QUEUE_RULES = 5;

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration ARRIVAL = Duration.ofSeconds(6);
    private static final Pattern RECEIVED = Pattern.compile(
            "received packet with \\d+ bytes from AF=2 (\\d+\\.\\d+\\.\\d+\\.\\d+):\\d+");
    private static final Pattern PASSWORD = Pattern.compile("web console user 'admin' password '([^']+)'");

    @RegisterExtension
    final Diagnostics diagnostics = new Diagnostics();

    /** The lab (one per class). */
    protected NamespaceLab lab;
    /** The daemon in the gateway namespace. */
    protected Daemon daemon;
    /** socat traffic. */
    protected Traffic traffic;
    /** The WAN peer's UDP listener on {@link #WAN_PORT}. */
    protected Traffic.Listener wan;
    private String consolePassword;
    private final Set<String> hosts = new HashSet<>();

    /** @return the backend this class tests */
    protected abstract BackendKind backend();

    /**
     * Checks what the backend's data path needs from the kernel beyond the lab; fails under CI, skips elsewhere.
     */
    protected void requireDataPath() {
    }

    @BeforeAll
    void setUp() throws IOException {
        Requirements.requireNamespaceLab();
        List<String> missing = new ArrayList<>(Requirements.missingTools(List.of("conntrack", "nft")));
        Optional<Path> bundle = netmapBundle();
        if (bundle.isEmpty()) {
            missing.add("bundle natpmp.netmap/target/natpmp.netmap-*.jar (run: mvn -pl natpmp.netmap package)");
        }
        Requirements.enforce(missing);
        lab = NamespaceLab.gatewayTopology(getClass().getSimpleName());
        backend().prepareLab(lab);
        requireDataPath();
        lab.execOk(lab.wan(), "ip", "route", "add", "198.18.0.0/15", "via", WAN_GW);
        traffic = new Traffic(lab);
        daemon = new Daemon(lab, lab.gw(), "daemon", "127.0.0.1:18080", List.of("-i", "wan0", "-a", LAN_GW));
        daemon.writeConfig("natpmp.service", backend().targetLine());
        daemon.writeConfig(backend().pid(), "watch.interval.ms=1000");
        // the mapper as an operator enables it: interface and backend, nothing about queues or conntrack
        daemon.writeConfig("natpmp.netmap", "external.interface=wan0", "dnat_expired=false",
                "backend.target=(natpmp.backend=" + backend().id() + ")");
        rule("d3", 10, "192.168.50.16/28", "198.18.0.0/24", "", false);
        rule("d4a", 20, "192.168.50.32/28", "198.18.1.0/30", "", false);
        rule("d4b", 21, "192.168.50.32/28", "198.18.2.0/32", "", false);
        rule("d5a", 40, "192.168.50.64/28", "198.18.4.0/32", "2", false);
        rule("d5b", 41, "192.168.50.64/28", "198.18.5.0/32", "8", false);
        rule("d5ra", 50, "192.168.50.80/28", "198.18.6.0/32", "2", true);
        rule("d5rb", 51, "192.168.50.80/28", "198.18.7.0/32", "8", false);
        rule("ttl", 60, "192.168.50.96/28", "198.18.3.0/28", "4", false);
        Files.copy(bundle.orElseThrow(), daemon.load().resolve("natpmp.netmap.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        diagnostics.add("natpmpd output", daemon::diagnostics);
        diagnostics.add("gateway iptables-save", lab::gatewayRules);
        diagnostics.add("gateway nft list ruleset",
                () -> lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "list", "ruleset").output());
        diagnostics.add("gateway conntrack -L",
                () -> lab.exec(lab.gw(), Duration.ofSeconds(20), "conntrack", "-L").output());
        diagnostics.add("subnet mapper (console JSON)", () -> consolePassword == null ? "" : netmapJson());
        diagnostics.add("WAN listener", () -> wan == null ? "" : wan.process().output());
        startDaemon();
        Matcher password = PASSWORD.matcher(daemon.output());
        assertThat(password.find()).as("the launcher printed the console password").isTrue();
        consolePassword = password.group(1);
        wan = traffic.listen(lab.wan(), "udp", WAN_PORT);
    }

    @AfterAll
    void tearDown() {
        try {
            if (daemon != null && daemon.current() != null && daemon.current().isAlive()) {
                daemon.stop(Duration.ofSeconds(15));
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }

    private static Optional<Path> netmapBundle() throws IOException {
        Path target = Requirements.home().resolve("natpmp.netmap/target");
        if (!Files.isDirectory(target)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().matches("natpmp\\.netmap-[0-9][^/]*(?<!-sources|-javadoc"
                    + "|-tests)\\.jar")).findFirst();
        }
    }

    private void rule(String name, int rank, String subnet, String prefix, String ttl, boolean reuse) {
        daemon.writeConfig("natpmp.netmap.rule-" + name, "rank=" + rank, "subnet=" + subnet, "prefix=" + prefix,
                "hook=both", "ttl=" + ttl, "reuse=" + reuse);
    }

    /** Starts the daemon and waits until NAT-PMP answers and the mapper's queue rules are in the kernel. */
    protected void startDaemon() {
        daemon.start();
        Pattern reconciled = Pattern.compile("netmap: firewall backend " + backend().id() + " reconciled to \\d+"
                + " bindings and " + QUEUE_RULES + " queue rules");
        daemon.awaitReady(READY_TIMEOUT, () -> daemon.output().contains("NFQUEUE 4660 open")
                && reconciled.matcher(daemon.output()).find());
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /**
     * Gives the LAN host namespace another address (a LAN host of its own for the mapper).
     *
     * @param address an address of 192.168.50.0/24
     */
    protected void addHost(String address) {
        if (hosts.add(address)) {
            lab.execOk(lab.lan(), "ip", "addr", "add", address + "/24", "dev", "eth0");
        }
    }

    /**
     * Sends one UDP datagram from {@code host} (a new connection: fresh source port) to the WAN peer and returns
     * the source address the peer saw, or empty if it did not arrive within a few seconds.
     *
     * @param host the LAN source address
     * @return the source on the WAN side
     */
    protected Optional<String> sendFrom(String host) {
        addHost(host);
        String token = traffic.token();
        ExecResult sent = traffic.send(lab.lan(), "udp", WAN_PEER, WAN_PORT, token, host, 0);
        assertThat(sent.ok()).as(sent::describe).isTrue();
        if (!wan.process().awaitOutput(out -> out.contains(token), ARRIVAL)) {
            return Optional.empty();
        }
        return Optional.of(sourceOf(wan.process().output(), token));
    }

    /**
     * @param host the LAN source address
     * @return the WAN-side source of one datagram of {@code host}; fails if it did not arrive
     */
    protected String seenAs(String host) {
        return sendFrom(host).orElseThrow(() -> new AssertionError("a datagram from " + host + " did not reach the"
                + " WAN peer within " + ARRIVAL));
    }

    /** The address socat logged for the datagram that carried {@code token}. */
    private static String sourceOf(String output, String token) {
        int at = output.indexOf(token);
        Matcher m = RECEIVED.matcher(output);
        String last = null;
        while (m.find() && m.start() < at) {
            last = m.group(1);
        }
        assertThat(last).as("socat logged the source of %s", token).isNotNull();
        return last;
    }

    /**
     * Starts tcpdump on the WAN peer's interface for packets with a private source (they must never appear).
     *
     * @param name a label for its log
     * @return the running capture
     */
    protected Background capturePrivateSources(String name) {
        Background tcpdump = lab.start(lab.wan(), name, "tcpdump", "-n", "-l", "-i", "eth0", "src", "net",
                "192.168.0.0/16");
        assertThat(tcpdump.awaitOutput(out -> out.contains("listening on"), Duration.ofSeconds(10)))
                .as("tcpdump started: %s", tcpdump.output()).isTrue();
        return tcpdump;
    }

    /**
     * @param capture a capture from {@link #capturePrivateSources}
     * @return the packet lines it printed
     */
    protected static List<String> packets(Background capture) {
        return capture.output().lines().filter(l -> l.contains(" IP ")).toList();
    }

    /** @return {@code natpmp-netmap.json} from the Web Console, fetched inside the gateway */
    protected String netmapJson() {
        ExecResult r = lab.exec(lab.gw(), Duration.ofSeconds(20), "curl", "-s", "-f", "-u", "admin:" + consolePassword,
                "http://127.0.0.1:18080/system/console/natpmp-netmap.json");
        assertThat(r.ok()).as(r::describe).isTrue();
        return r.stdout();
    }

    /**
     * @param json the console JSON
     * @return per pool (CIDR) its {@code procTable} and {@code statLine} texts, in the order served
     */
    protected static Map<String, String[]> procTexts(String json) {
        Map<String, String[]> pools = new LinkedHashMap<>();
        Matcher pool = Pattern.compile("\"pool\":\"([0-9./]+)\"").matcher(json);
        while (pool.find()) {
            int from = pool.end();
            pools.put(pool.group(1), new String[] {jsonString(json, "procTable", from),
                jsonString(json, "statLine", from)});
        }
        return pools;
    }

    /** The first string value of {@code key} after {@code from}, unescaped (RFC 8259 escapes). */
    private static String jsonString(String json, String key, int from) {
        int k = json.indexOf("\"" + key + "\":\"", from);
        if (k < 0) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int i = k + key.length() + 4; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '"') {
                return b.toString();
            }
            if (c == '\\') {
                char e = json.charAt(++i);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            } else {
                b.append(c);
            }
        }
        throw new AssertionError("unterminated string for " + key);
    }

    /** Writes {@code natpmp.netmap.cfg} again with another {@code dnat_expired}. */
    protected void dnatExpired(boolean on) {
        daemon.writeConfig("natpmp.netmap", "external.interface=wan0", "dnat_expired=" + on,
                "backend.target=(natpmp.backend=" + backend().id() + ")");
    }

    /** Polls until {@code condition} holds; fails with {@code what} otherwise. */
    protected static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
        assertThat(Waits.until(timeout, Duration.ofMillis(200), condition)).as(what).isTrue();
    }

    // ------------------------------------------------------------------------------------------------- tests

    @Test
    @Order(10)
    void d3_sourcesFromTheNetworkAddressUpwardInTheOrderHostsFirstSend() {
        // whole_prefix (default): the first host gets the network address; order of first use, not of address
        assertThat(seenAs("192.168.50.19")).isEqualTo("198.18.0.0");
        assertThat(seenAs("192.168.50.17")).isEqualTo("198.18.0.1");
        assertThat(seenAs("192.168.50.18")).isEqualTo("198.18.0.2");
        // a bound host keeps its address for its later connections
        assertThat(seenAs("192.168.50.19")).isEqualTo("198.18.0.0");
        assertThat(seenAs("192.168.50.17")).isEqualTo("198.18.0.1");
    }

    @Test
    @Order(20)
    void d4_firstDatagramOfANewHostArrivesTranslated() {
        Background capture = capturePrivateSources("tcpdump-first-packet");
        String host = "192.168.50.20";
        // exactly one datagram: it is held while its binding is made, then leaves translated, not dropped
        addHost(host);
        String token = traffic.token();
        ExecResult sent = traffic.send(lab.lan(), "udp", WAN_PEER, WAN_PORT, token, host, 0);
        assertThat(sent.ok()).as(sent::describe).isTrue();
        assertThat(wan.process().awaitOutput(out -> out.contains(token), ARRIVAL))
                .as("the one and only datagram of %s arrived", host).isTrue();
        assertThat(sourceOf(wan.process().output(), token)).isEqualTo("198.18.0.3");
        Waits.pause(Duration.ofSeconds(1)); // let a late private packet, if any, reach the capture
        capture.stop(Duration.ofSeconds(2));
        assertThat(packets(capture)).as("no private source on the WAN side").isEmpty();
        assertThat(daemon.output()).contains("xt_DNETMAP: add binding 192.168.50.20 -> 198.18.0.3");
    }
}
