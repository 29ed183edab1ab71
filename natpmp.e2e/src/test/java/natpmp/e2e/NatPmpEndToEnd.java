// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.LAN2_GW;
import static natpmp.e2e.NamespaceLab.LAN_GW;
import static natpmp.e2e.NamespaceLab.LAN_HOST;
import static natpmp.e2e.NamespaceLab.LAN_HOST_2;
import static natpmp.e2e.NamespaceLab.WAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_PEER;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End to end (issues 3 and 4): the real assembly started by {@code ./natpmpd} in the gateway namespace of a
 * {@link NamespaceLab}, a real firewall backend selected with {@code backend.target} (one subclass per backend:
 * {@link IptablesEndToEndTest}, {@link NftablesEndToEndTest}), libnatpmp's {@code natpmpc} as the client, socat
 * traffic from the WAN peer through the mappings. One lab and one daemon per class (start-up costs seconds); every
 * test creates its own mappings on its own ports and deletes them afterwards. Tests that restart the daemon run
 * last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
abstract class NatPmpEndToEnd {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration PASS_TIMEOUT = Duration.ofSeconds(8);
    private static final long LIFETIME = 3600;

    @RegisterExtension
    final Diagnostics diagnostics = new Diagnostics();

    /** The lab (one per class). */
    protected NamespaceLab lab;
    private Daemon daemon;
    private Natpmpc natpmpc;
    private Traffic traffic;
    /** tcpdump of NAT-PMP announcements on the first LAN, when {@link #captureAnnouncements()}. */
    protected Background lanCapture;
    /** tcpdump of NAT-PMP announcements on the second LAN, when {@link #captureAnnouncements()}. */
    protected Background lan2Capture;
    private final AtomicInteger ports = new AtomicInteger(4100);
    private final List<Runnable> cleanups = new ArrayList<>();

    /** A mapping a test created: deleted again after the test. */
    private record Mapping(String ns, String gateway, String proto, int internal, int external, long lifetime) {
    }

    /** @return the backend this class tests */
    protected abstract BackendKind backend();

    /**
     * @return true when the class checks the start-up announcements (N23): they do not depend on the backend, so
     *         one variant checks them
     */
    protected boolean captureAnnouncements() {
        return false;
    }

    /**
     * Called before the daemon is restarted under a {@link FirewallToolStub}: a backend whose tools the stub
     * cannot reach (in-process code) is configured here to use the stubbed programs.
     *
     * @param daemon the stopped daemon
     */
    protected void beforeToolFailure(Daemon daemon) {
    }

    @BeforeAll
    void setUp() {
        Requirements.requireNamespaceLab();
        lab = NamespaceLab.gatewayTopology(getClass().getSimpleName());
        backend().prepareLab(lab);
        natpmpc = new Natpmpc(lab);
        traffic = new Traffic(lab);
        daemon = new Daemon(lab, lab.gw(), "daemon", "127.0.0.1:18080",
                List.of("-v", "-i", "wan0", "-a", LAN_GW, "-a", LAN2_GW, "-t", Long.toString(LIFETIME)));
        // the launcher adds its options to this file and keeps our key
        daemon.writeConfig("natpmp.service", backend().targetLine());
        // the backend's drift watch runs every second here, so a flushed firewall is repaired quickly
        daemon.writeConfig(backend().pid(), "watch.interval.ms=1000");
        diagnostics.add("natpmpd output", daemon::diagnostics);
        diagnostics.add("gateway iptables-save", lab::gatewayRules);
        diagnostics.add("gateway nft list ruleset",
                () -> lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "list", "ruleset").output());
        if (captureAnnouncements()) {
            // N23: the capture must run before the daemon starts to see the start-up burst
            lanCapture = capture(lab.lan(), "tcpdump-lan");
            lan2Capture = capture(lab.lan2(), "tcpdump-lan2");
        }
        startDaemon();
    }

    @AfterAll
    void tearDown() {
        try {
            if (daemon != null && daemon.current() != null && daemon.current().isAlive()) {
                daemon.stop(Duration.ofSeconds(10));
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }

    @AfterEach
    void cleanUp() {
        List<Runnable> todo = new ArrayList<>(cleanups);
        cleanups.clear();
        java.util.Collections.reverse(todo);
        todo.forEach(Runnable::run);
    }

    private Background capture(String ns, String name) {
        Background tcpdump = lab.start(ns, name, "tcpdump", "-n", "-tt", "-l", "-x", "-i", "eth0", "udp", "dst",
                "port", "5350");
        assertThat(tcpdump.awaitOutput(out -> out.contains("listening on"), Duration.ofSeconds(10)))
                .as("tcpdump started: %s", tcpdump.output()).isTrue();
        return tcpdump;
    }

    private void startDaemon() {
        daemon.start();
        // ready = answers NAT-PMP and a firewall backend (hot-deployed from load/ at start) holds the mappings
        String holds = "firewall backend " + backend().id() + " holds all";
        daemon.awaitReady(READY_TIMEOUT, () -> daemon.output().contains(holds)
                && WAN_GW.equals(natpmpc.externalAddress(lab.lan(), LAN_GW, Duration.ofSeconds(2)).parsed()
                        .publicAddress().orElse(null)));
    }

    private int nextPort() {
        return ports.incrementAndGet();
    }

    /** Suggests external = internal + 36000 so the mapped port always differs from the internal one. */
    private Mapping map(String ns, String gateway, String proto, int internal, long lifetime) {
        Natpmpc.Run run = natpmpc.map(ns, gateway, proto, internal + 36000, internal, lifetime);
        assertThat(run.parsed().mappedPort()).as("natpmpc map %s %d\n%s", proto, internal, run.describe()).isPresent();
        assertThat(run.parsed().protocol()).as(run::describe).contains(proto.toUpperCase(java.util.Locale.ROOT));
        assertThat(run.parsed().privatePort()).as(run::describe).hasValue(internal);
        Mapping mapping = new Mapping(ns, gateway, proto, internal, run.mappedPort(), run.parsed().lifetime().getAsLong());
        cleanups.add(() -> natpmpc.map(ns, gateway, proto, 0, internal, 0));
        return mapping;
    }

    private Mapping map(String proto, int internal) {
        return map(lab.lan(), LAN_GW, proto, internal, LIFETIME);
    }

    private Traffic.Listener listen(String ns, String proto, int port) {
        Traffic.Listener listener = traffic.listen(ns, proto, port);
        cleanups.add(listener::stop);
        return listener;
    }

    /** @return the daemon's rules (iptables chains NATPMP-..., or lines of table ip natpmp) that mention {@code port} */
    private List<String> rulesMentioning(int port) {
        return backend().rulesMentioning(lab, port);
    }

    private static byte[] rawMapRequest(int op, int internal, int external, long lifetime) {
        return ByteBuffer.allocate(12).put((byte) 0).put((byte) op).putShort((short) 0).putShort((short) internal)
                .putShort((short) external).putInt((int) lifetime).array();
    }

    /** Sends one raw NAT-PMP request with socat and returns whatever came back within 2 s. */
    private ExecResult rawRequest(String ns, String server, byte[] request) {
        return lab.exec(ns, request, Duration.ofSeconds(6), "socat", "-t", "2", "STDIO", "UDP4:" + server + ":5351");
    }

    // ------------------------------------------------------------------------------------------------------------

    @Test
    @Order(10)
    void n6_externalAddressIsTheWanAddress() {
        Natpmpc.Run run = natpmpc.externalAddress(lab.lan(), LAN_GW, Natpmpc.DEFAULT_TIMEOUT);
        assertThat(run.exec().ok()).as(run::describe).isTrue();
        assertThat(run.parsed().publicAddress()).as(run::describe).contains(WAN_GW);
    }

    @Test
    @Order(11)
    void n9_mapUdpAndTcp_n18_deleteWithLifetimeZero() {
        int udpPort = nextPort();
        int tcpPort = nextPort();
        Mapping udp = map("udp", udpPort);
        Mapping tcp = map("tcp", tcpPort);
        assertThat(udp.lifetime()).as("granted lifetime (N17: never more than requested)").isBetween(1L, LIFETIME);
        assertThat(tcp.lifetime()).isBetween(1L, LIFETIME);
        assertThat(rulesMentioning(udp.external())).as("rules for UDP %d", udp.external()).isNotEmpty();
        assertThat(rulesMentioning(tcp.external())).as("rules for TCP %d", tcp.external()).isNotEmpty();

        for (Mapping m : List.of(udp, tcp)) {
            Natpmpc.Run delete = natpmpc.map(lab.lan(), LAN_GW, m.proto(), m.external(), m.internal(), 0);
            // N18: result 0, internal port echoed, external port 0, lifetime 0
            assertThat(delete.parsed().mappedPort()).as(delete::describe).hasValue(0);
            assertThat(delete.parsed().privatePort()).as(delete::describe).hasValue(m.internal());
            assertThat(delete.parsed().lifetime()).as(delete::describe).hasValue(0);
            assertThat(rulesMentioning(m.external())).as("rules left for %s %d", m.proto(), m.external()).isEmpty();
            // N18: deleting again is the same success (retransmission-safe)
            Natpmpc.Run again = natpmpc.map(lab.lan(), LAN_GW, m.proto(), m.external(), m.internal(), 0);
            assertThat(again.parsed().mappedPort()).as(again::describe).hasValue(0);
        }
    }

    @Test
    @Order(12)
    void n10_inboundUdpAndTcpReachTheLanHost_andNothingAfterDelete() {
        int udpPort = nextPort();
        int tcpPort = nextPort();
        Traffic.Listener udpListener = listen(lab.lan(), "udp", udpPort);
        Traffic.Listener tcpListener = listen(lab.lan(), "tcp", tcpPort);
        Traffic.Listener tcpOnUdpPort = listen(lab.lan(), "tcp", udpPort);
        Mapping udp = map("udp", udpPort);
        Mapping tcp = map("tcp", tcpPort);

        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), udpListener, PASS_TIMEOUT))
                .as("UDP %s:%d -> %s:%d", WAN_GW, udp.external(), LAN_HOST, udpPort).isTrue();
        assertThat(traffic.passes(lab.wan(), WAN_GW, tcp.external(), tcpListener, PASS_TIMEOUT))
                .as("TCP %s:%d -> %s:%d", WAN_GW, tcp.external(), LAN_HOST, tcpPort).isTrue();
        // N10: a UDP mapping must not forward TCP
        assertThat(traffic.blocked(lab.wan(), WAN_GW, udp.external(), tcpOnUdpPort)).as("TCP through a UDP mapping")
                .isTrue();

        natpmpc.map(lab.lan(), LAN_GW, "udp", 0, udpPort, 0);
        natpmpc.map(lab.lan(), LAN_GW, "tcp", 0, tcpPort, 0);
        assertThat(traffic.blocked(lab.wan(), WAN_GW, udp.external(), udpListener)).as("UDP after delete").isTrue();
        assertThat(traffic.blocked(lab.wan(), WAN_GW, tcp.external(), tcpListener)).as("TCP after delete").isTrue();
    }

    @Test
    @Order(13)
    void n17_mappingExpiresAfterItsLifetime() {
        int port = nextPort();
        Traffic.Listener listener = listen(lab.lan(), "udp", port);
        Mapping udp = map(lab.lan(), LAN_GW, "udp", port, 2);
        assertThat(udp.lifetime()).as("N17: granted lifetime for a 2 s request").isBetween(1L, 2L);
        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), listener, PASS_TIMEOUT)).as("before expiry")
                .isTrue();
        boolean expired = Waits.until(Duration.ofSeconds(udp.lifetime() + 6), Duration.ZERO,
                () -> traffic.blocked(lab.wan(), WAN_GW, udp.external(), listener));
        assertThat(expired).as("traffic stops after the %d s lifetime", udp.lifetime()).isTrue();
        assertThat(Waits.until(Duration.ofSeconds(3), Duration.ofMillis(200), () -> rulesMentioning(udp.external()).isEmpty()))
                .as("rules removed on expiry: %s", rulesMentioning(udp.external())).isTrue();
    }

    @Test
    @Order(14)
    void n27_outboundFromTheMappedPortLeavesWithTheMappedPort() {
        int udpPort = nextPort();
        int tcpPort = nextPort();
        Mapping udp = map("udp", udpPort);
        Mapping tcp = map("tcp", tcpPort);
        Traffic.Listener wanUdp = listen(lab.wan(), "udp", 9200);
        Traffic.Listener wanTcp = listen(lab.wan(), "tcp", 9201);

        assertThat(traffic.deliver(lab.lan(), WAN_PEER, 9200, wanUdp, PASS_TIMEOUT, LAN_HOST, udpPort))
                .as("UDP from %s:%d reaches the WAN peer", LAN_HOST, udpPort).isNotNull();
        assertThat(wanUdp.peers()).as("UDP source seen outside (mapped %d)", udp.external()).isNotEmpty()
                .allSatisfy(p -> assertThat(p).isEqualTo(WAN_GW + ":" + udp.external()));

        assertThat(traffic.deliver(lab.lan(), WAN_PEER, 9201, wanTcp, PASS_TIMEOUT, LAN_HOST, tcpPort))
                .as("TCP from %s:%d reaches the WAN peer", LAN_HOST, tcpPort).isNotNull();
        assertThat(wanTcp.peers()).as("TCP source seen outside (mapped %d)", tcp.external()).isNotEmpty()
                .allSatisfy(p -> assertThat(p).isEqualTo(WAN_GW + ":" + tcp.external()));
    }

    @Test
    @Order(15)
    void n28_hairpinFromAnotherLanHostReachesTheMappedHost() {
        int udpPort = nextPort();
        int tcpPort = nextPort();
        Traffic.Listener udpListener = listen(lab.lan(), "udp", udpPort);
        Traffic.Listener tcpListener = listen(lab.lan(), "tcp", tcpPort);
        Mapping udp = map("udp", udpPort);
        Mapping tcp = map("tcp", tcpPort);
        assertThat(traffic.deliver(lab.lan(), WAN_GW, udp.external(), udpListener, PASS_TIMEOUT, LAN_HOST_2, 0))
                .as("UDP %s -> %s:%d -> %s:%d", LAN_HOST_2, WAN_GW, udp.external(), LAN_HOST, udpPort).isNotNull();
        // TCP needs the reply path too: the gateway must source-NAT the hairpinned flow so the answer returns
        // through it (the client talks to 203.0.113.1, not to .10)
        assertThat(traffic.deliver(lab.lan(), WAN_GW, tcp.external(), tcpListener, PASS_TIMEOUT, LAN_HOST_2, 0))
                .as("TCP %s -> %s:%d -> %s:%d", LAN_HOST_2, WAN_GW, tcp.external(), LAN_HOST, tcpPort).isNotNull();
    }

    @Test
    @Order(16)
    void s3_lanTrafficToTheSamePortOnAnOutsideHostIsNotRedirected() {
        int port = nextPort();
        Traffic.Listener lanListener = listen(lab.lan(), "udp", port);
        Mapping udp = map("udp", port);
        Traffic.Listener wanListener = listen(lab.wan(), "udp", udp.external());
        // positive control: the mapping works from outside
        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), lanListener, PASS_TIMEOUT)).isTrue();
        // the seed daemon DNATed without -i/-d: this must go to the WAN peer, not back to the LAN host
        String token = traffic.deliver(lab.lan(), WAN_PEER, udp.external(), wanListener, PASS_TIMEOUT, LAN_HOST_2, 0);
        assertThat(token).as("LAN -> %s:%d reaches the outside host", WAN_PEER, udp.external()).isNotNull();
        assertThat(lanListener.received(token)).as("redirected to the mapped LAN host instead").isFalse();
    }

    @Test
    @Order(17)
    void n15_secondLanInterfaceIsAnsweredFromItsOwnAddress() {
        // natpmpc connect()s to 192.168.60.1:5351: an answer from any other address would be dropped
        Natpmpc.Run address = natpmpc.externalAddress(lab.lan2(), LAN2_GW, Natpmpc.DEFAULT_TIMEOUT);
        assertThat(address.parsed().publicAddress()).as(address::describe).contains(WAN_GW);
        int port = nextPort();
        Traffic.Listener listener = listen(lab.lan2(), "udp", port);
        Mapping udp = map(lab.lan2(), LAN2_GW, "udp", port, LIFETIME);
        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), listener, PASS_TIMEOUT))
                .as("WAN -> %s:%d -> %s:%d", WAN_GW, udp.external(), NamespaceLab.LAN2_HOST, port).isTrue();
    }

    @Test
    @Order(18)
    void n15_requestsFromTheWanSideGetNoAnswerAndCreateNothing() {
        int internal = nextPort();
        int external = internal + 36000;
        byte[] request = rawMapRequest(1, internal, external, LIFETIME);
        // positive control for the raw client: the same request from the LAN is answered (16 bytes)
        ExecResult fromLan = rawRequest(lab.lan(), LAN_GW, request);
        assertThat(fromLan.stdout()).as(fromLan::describe).isNotEmpty();
        natpmpc.map(lab.lan(), LAN_GW, "udp", 0, internal, 0);

        int wanInternal = nextPort();
        int wanExternal = wanInternal + 36000;
        byte[] wanRequest = rawMapRequest(1, wanInternal, wanExternal, LIFETIME);
        Natpmpc.Run toWanAddress = natpmpc.externalAddress(lab.wan(), WAN_GW, Duration.ofSeconds(4));
        assertThat(toWanAddress.parsed().publicAddress()).as(toWanAddress::describe).isEmpty();
        ExecResult rawToWan = rawRequest(lab.wan(), WAN_GW, wanRequest);
        assertThat(rawToWan.stdout()).as("reply to a MAP sent to the external address\n%s", rawToWan.describe())
                .isEmpty();

        // a WAN host that routes the LAN address through the gateway: the packet arrives on wan0 addressed to
        // 192.168.50.1, where the daemon's socket is bound
        lab.execOk(lab.wan(), "ip", "route", "add", LAN_GW + "/32", "via", WAN_GW);
        try {
            Natpmpc.Run toLanAddress = natpmpc.externalAddress(lab.wan(), LAN_GW, Duration.ofSeconds(4));
            assertThat(toLanAddress.parsed().publicAddress()).as(toLanAddress::describe).isEmpty();
            ExecResult rawToLan = rawRequest(lab.wan(), LAN_GW, wanRequest);
            assertThat(rawToLan.stdout()).as("reply to a MAP from the WAN sent to the LAN address\n%s",
                    rawToLan.describe()).isEmpty();
        } finally {
            lab.exec(lab.wan(), Duration.ofSeconds(10), "ip", "route", "del", LAN_GW + "/32", "via", WAN_GW);
        }
        assertThat(rulesMentioning(wanExternal)).as("rules created by WAN requests").isEmpty();
    }

    @Test
    @Order(80)
    void firewallFlushedFromOutsideIsRestored() {
        int udpPort = nextPort();
        int tcpPort = nextPort();
        Traffic.Listener udpListener = listen(lab.lan(), "udp", udpPort);
        Traffic.Listener tcpListener = listen(lab.lan(), "tcp", tcpPort);
        Mapping udp = map("udp", udpPort);
        Mapping tcp = map("tcp", tcpPort);
        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), udpListener, PASS_TIMEOUT)).isTrue();
        assertThat(traffic.passes(lab.wan(), WAN_GW, tcp.external(), tcpListener, PASS_TIMEOUT)).isTrue();

        // a "firewall reload" (iptables: flush both tables; nftables: nft flush ruleset), then the router's own
        // rules come back (ours do not)
        long flushed = System.nanoTime();
        backend().flushFromOutside(lab);

        assertThat(traffic.passes(lab.wan(), WAN_GW, udp.external(), udpListener, PASS_TIMEOUT))
                .as("UDP mapping after the flush").isTrue();
        assertThat(traffic.passes(lab.wan(), WAN_GW, tcp.external(), tcpListener, PASS_TIMEOUT))
                .as("TCP mapping after the flush").isTrue();
        System.err.printf("[e2e] firewall restored %d ms after the flush%n", (System.nanoTime() - flushed) / 1_000_000);
        backend().assertComplete(lab);
    }

    @Test
    @Order(90)
    void n24_killMinus9AndRestartKeepsEveryMappingPassingTraffic() {
        List<Traffic.Listener> listeners = new ArrayList<>();
        List<Mapping> mappings = new ArrayList<>();
        for (String proto : List.of("udp", "udp", "tcp", "tcp")) {
            int port = nextPort();
            listeners.add(listen(lab.lan(), proto, port));
            mappings.add(map(proto, port));
        }
        for (int i = 0; i < mappings.size(); i++) {
            assertThat(traffic.passes(lab.wan(), WAN_GW, mappings.get(i).external(), listeners.get(i), PASS_TIMEOUT))
                    .as("before the crash: %s", mappings.get(i)).isTrue();
        }

        assertThat(daemon.command()).as("program behind the tracked PID").isEqualTo("java");
        int status = daemon.kill9();
        assertThat(status).as("exit status of a SIGKILLed JVM").isEqualTo(137);
        ExecResult pids = Proc.run(Duration.ofSeconds(10), "ip", "netns", "pids", lab.gw());
        assertThat(pids.stdout().trim()).as("processes left in the gateway namespace").isEmpty();

        // emulate the reboot that usually follows: the kernel forgets every rule; the router's own come back
        backend().forgetEverything(lab);
        assertThat(traffic.blocked(lab.wan(), WAN_GW, mappings.get(0).external(), listeners.get(0)))
                .as("control: nothing passes while the daemon is down and the rules are gone").isTrue();

        startDaemon();
        for (int i = 0; i < mappings.size(); i++) {
            assertThat(traffic.passes(lab.wan(), WAN_GW, mappings.get(i).external(), listeners.get(i), PASS_TIMEOUT))
                    .as("after kill -9 and restart: %s", mappings.get(i)).isTrue();
        }
        // N14: the renewal with the old port as suggestion gets that port back
        Mapping first = mappings.get(0);
        Natpmpc.Run renew = natpmpc.map(lab.lan(), LAN_GW, first.proto(), first.external(), first.internal(), LIFETIME);
        assertThat(renew.parsed().mappedPort()).as(renew::describe).hasValue(first.external());
    }

    @Test
    @Order(100)
    void n7_backendFailureGivesResult3AndTheServiceRecovers() {
        FirewallToolStub stub = new FirewallToolStub(lab.workDir().resolve("tool-stub"), backend().stubbedBinaries());
        cleanups.add(stub::repair);
        Daemon.Stop stop = daemon.stop(Duration.ofSeconds(5));
        assertThat(stop.exitCode()).as("SIGTERM in the gateway namespace: %s", stop).isEqualTo(0);
        beforeToolFailure(daemon);
        daemon.wrapWith(stub.wrapper());
        startDaemon();

        int before = nextPort();
        Traffic.Listener beforeListener = listen(lab.lan(), "udp", before);
        Mapping kept = map("udp", before);
        assertThat(traffic.passes(lab.wan(), WAN_GW, kept.external(), beforeListener, PASS_TIMEOUT))
                .as("the stub passes through while the firewall tools are healthy").isTrue();

        stub.breakTools();
        int during = nextPort();
        Natpmpc.Run failed = natpmpc.map(lab.lan(), LAN_GW, "udp", during + 36000, during, LIFETIME);
        cleanups.add(() -> natpmpc.map(lab.lan(), LAN_GW, "udp", 0, during, 0));
        assertThat(failed.parsed().networkFailure()).as("result 3 while %s fails\n%s", backend().id(), failed.describe())
                .isTrue();
        assertThat(failed.parsed().mappedPort()).isEmpty();

        stub.repair();
        int after = nextPort();
        Traffic.Listener afterListener = listen(lab.lan(), "udp", after);
        boolean recovered = Waits.until(Duration.ofSeconds(20), Duration.ofMillis(500),
                () -> natpmpc.map(lab.lan(), LAN_GW, "udp", after + 36000, after, LIFETIME).parsed().mappedPort()
                        .isPresent());
        cleanups.add(() -> natpmpc.map(lab.lan(), LAN_GW, "udp", 0, after, 0));
        assertThat(recovered).as("MAP succeeds again once %s works", backend().id()).isTrue();
        Natpmpc.Run again = natpmpc.map(lab.lan(), LAN_GW, "udp", after + 36000, after, LIFETIME);
        int external = again.mappedPort();
        assertThat(traffic.passes(lab.wan(), WAN_GW, external, afterListener, PASS_TIMEOUT))
                .as("new mapping passes traffic after recovery").isTrue();
        assertThat(traffic.passes(lab.wan(), WAN_GW, kept.external(), beforeListener, PASS_TIMEOUT))
                .as("mapping made before the failure still passes").isTrue();
    }
}
