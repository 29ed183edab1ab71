// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Harness self-test: the lab is what the end-to-end tests assume (routing, the base firewall, isolation of the
 * WAN peer), its process tracking and teardown work, and the iptables stub fails and recovers on demand. Needs
 * root and the tools, but not the daemon.
 */
@Timeout(120)
class NamespaceLabTest {

    @BeforeEach
    void requirements() {
        Requirements.requireRootAndTools();
    }

    @Test
    void topologyRoutesLikeAHomeGateway() {
        try (NamespaceLab lab = NamespaceLab.gatewayTopology("lab-selftest")) {
            Traffic traffic = new Traffic(lab);
            // LAN host -> WAN peer is forwarded and masqueraded to the gateway's WAN address
            Traffic.Listener wanListener = traffic.listen(lab.wan(), "udp", 9100);
            assertThat(traffic.passes(lab.lan(), NamespaceLab.WAN_PEER, 9100, wanListener, Duration.ofSeconds(5)))
                    .as("LAN -> WAN forwarding").isTrue();
            assertThat(wanListener.peers()).allSatisfy(p -> assertThat(p).startsWith(NamespaceLab.WAN_GW + ":"));
            // the second LAN reaches the WAN too
            assertThat(traffic.passes(lab.lan2(), NamespaceLab.WAN_PEER, 9100, wanListener, Duration.ofSeconds(5)))
                    .as("LAN2 -> WAN forwarding").isTrue();
            // hairpin prerequisite: .11 -> gateway -> .10 would need the gateway; plain .11 -> .10 works locally
            Traffic.Listener lanListener = traffic.listen(lab.lan(), "tcp", 9101);
            assertThat(traffic.deliver(lab.lan(), NamespaceLab.LAN_HOST, 9101, lanListener, Duration.ofSeconds(5),
                    NamespaceLab.LAN_HOST_2, 0)).as("LAN .11 -> .10").isNotNull();
            // the WAN peer has no route to the LAN (TCP connect fails at once: network unreachable)
            ExecResult unreachable = traffic.send(lab.wan(), "tcp", NamespaceLab.LAN_HOST, 9101, traffic.token(), null, 0);
            assertThat(unreachable.ok()).as(unreachable::describe).isFalse();
            assertThat(unreachable.stderr()).contains("unreachable");
            // inbound to the gateway's WAN address reaches nobody without a mapping
            assertThat(traffic.blocked(lab.wan(), NamespaceLab.WAN_GW, 9101, lanListener)).isTrue();
        }
    }

    /**
     * The checks of the end-to-end tests pass against a hand-written reference ruleset of what a correct daemon
     * installs (DNAT on the external address, FORWARD accept, port-preserving SNAT of the mapped flow, hairpin
     * SNAT), so their failures point at the daemon, not at the lab.
     */
    @Test
    void referenceRulesetPassesTheEndToEndChecks() {
        try (NamespaceLab lab = NamespaceLab.gatewayTopology("lab-selftest")) {
            Traffic traffic = new Traffic(lab);
            String gw = lab.gw();
            String host = NamespaceLab.LAN_HOST;
            for (String proto : new String[] {"udp", "tcp"}) {
                int internal = "udp".equals(proto) ? 4000 : 4001;
                int external = internal + 36000;
                String dnat = host + ":" + internal;
                rule(lab, "-t", "nat", "-I", "PREROUTING", "-d", NamespaceLab.WAN_GW, "-p", proto, "--dport",
                        Integer.toString(external), "-j", "DNAT", "--to-destination", dnat);
                rule(lab, "-I", "FORWARD", "-d", host, "-p", proto, "--dport", Integer.toString(internal), "-j",
                        "ACCEPT");
                rule(lab, "-t", "nat", "-I", "POSTROUTING", "-o", "wan0", "-s", host, "-p", proto, "--sport",
                        Integer.toString(internal), "-j", "SNAT", "--to-source",
                        NamespaceLab.WAN_GW + ":" + external);
                rule(lab, "-t", "nat", "-I", "POSTROUTING", "-o", "lan0", "-s", "192.168.50.0/24", "-d", host, "-p",
                        proto, "--dport", Integer.toString(internal), "-j", "MASQUERADE");
                Traffic.Listener listener = traffic.listen(lab.lan(), proto, internal);
                assertThat(traffic.passes(lab.wan(), NamespaceLab.WAN_GW, external, listener, Duration.ofSeconds(5)))
                        .as("inbound %s", proto).isTrue();
                assertThat(traffic.deliver(lab.lan(), NamespaceLab.WAN_GW, external, listener, Duration.ofSeconds(5),
                        NamespaceLab.LAN_HOST_2, 0)).as("hairpin %s", proto).isNotNull();
                // N10: the other protocol does not pass; S3: same port on an outside host is not redirected
                Traffic.Listener sameNumber = traffic.listen(lab.wan(), proto, external);
                String token = traffic.deliver(lab.lan(), NamespaceLab.WAN_PEER, external, sameNumber,
                        Duration.ofSeconds(5), NamespaceLab.LAN_HOST_2, 0);
                assertThat(token).isNotNull();
                assertThat(listener.received(token)).isFalse();
                lab.execOk(gw, "iptables", "-t", "nat", "-D", "PREROUTING", "-d", NamespaceLab.WAN_GW, "-p", proto,
                        "--dport", Integer.toString(external), "-j", "DNAT", "--to-destination", dnat);
                assertThat(traffic.blocked(lab.wan(), NamespaceLab.WAN_GW, external, listener))
                        .as("after removing the DNAT rule (%s)", proto).isTrue();
                // N27 (a TCP listener on the internal port would keep socat from binding it as source port)
                listener.stop();
                Traffic.Listener outside = traffic.listen(lab.wan(), proto, 9300 + internal % 10);
                assertThat(traffic.deliver(lab.lan(), NamespaceLab.WAN_PEER, outside.port(), outside,
                        Duration.ofSeconds(5), host, internal)).as("outbound %s", proto).isNotNull();
                assertThat(outside.peers()).isNotEmpty()
                        .allSatisfy(p -> assertThat(p).isEqualTo(NamespaceLab.WAN_GW + ":" + external));
            }
        }
    }

    private static void rule(NamespaceLab lab, String... args) {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("iptables", "-w", "5"));
        argv.addAll(java.util.List.of(args));
        lab.execOk(lab.gw(), argv.toArray(String[]::new));
    }

    @Test
    void closeKillsTrackedProcessesAndDeletesNamespaces() {
        NamespaceLab lab = NamespaceLab.gatewayTopology("lab-selftest");
        Background sleeper;
        Background listener;
        try (lab) {
            sleeper = lab.start(lab.gw(), "sleeper", "sleep", "600");
            listener = new Traffic(lab).listen(lab.lan(), "tcp", 9102).process();
            // ip netns exec execs: the tracked PID is the program itself, not a wrapper
            assertThat(Waits.until(Duration.ofSeconds(5), Duration.ofMillis(50), () -> comm(sleeper.pid()).equals("sleep")))
                    .as("comm of " + sleeper.pid()).isTrue();
        }
        assertThat(sleeper.isAlive()).isFalse();
        assertThat(listener.isAlive()).isFalse();
        String namespaces = Proc.run(Duration.ofSeconds(10), "ip", "netns", "list").stdout();
        assertThat(namespaces).doesNotContain(lab.prefix());
    }

    @Test
    void labsHaveUniqueNames() {
        try (NamespaceLab a = NamespaceLab.empty("lab-selftest"); NamespaceLab b = NamespaceLab.empty("lab-selftest")) {
            assertThat(a.prefix()).isNotEqualTo(b.prefix()).startsWith("npe");
            assertThat(a.gw()).isEqualTo(a.prefix() + "-gw");
        }
    }

    @Test
    void iptablesStubFailsOnlyWhileBrokenAndOnlyForTheWrappedProcess() throws Exception {
        stubFailsOnlyWhileBroken(FirewallToolStub.IPTABLES, java.util.List.of("iptables-save", "-t", "nat"), "*nat",
                "iptables-save", "xtables");
    }

    @Test
    void nftStubFailsOnlyWhileBrokenAndOnlyForTheWrappedProcess() throws Exception {
        stubFailsOnlyWhileBroken(FirewallToolStub.NFT, java.util.List.of("nft", "list", "tables"), "",
                "nft", "/usr/sbin/nft");
    }

    private static void stubFailsOnlyWhileBroken(java.util.List<String> binaries, java.util.List<String> command,
            String expected, String name, String mountHint) {
        try (NamespaceLab lab = NamespaceLab.empty("lab-selftest")) {
            String ns = lab.addNamespace("gw");
            FirewallToolStub stub = new FirewallToolStub(lab.workDir().resolve("stub"), binaries);
            java.util.List<String> argv = new java.util.ArrayList<>(stub.wrapper());
            argv.addAll(command);
            ExecResult works = lab.exec(ns, Duration.ofSeconds(10), argv.toArray(String[]::new));
            assertThat(works.ok()).as(works::describe).isTrue();
            assertThat(works.stdout()).contains(expected);
            stub.breakTools();
            ExecResult broken = lab.exec(ns, Duration.ofSeconds(10), argv.toArray(String[]::new));
            assertThat(broken.exitCode()).as(broken::describe).isEqualTo(1);
            assertThat(broken.stderr()).contains("e2e stub: " + name + " made to fail");
            // everybody else keeps the real binaries
            ExecResult outside = lab.exec(ns, Duration.ofSeconds(10), command.toArray(String[]::new));
            assertThat(outside.ok()).as(outside::describe).isTrue();
            stub.repair();
            ExecResult repaired = lab.exec(ns, Duration.ofSeconds(10), argv.toArray(String[]::new));
            assertThat(repaired.ok()).as(repaired::describe).isTrue();
        }
        assertThat(Proc.run(Duration.ofSeconds(10), "findmnt", "-rn", "-o", "TARGET").stdout())
                .doesNotContain(mountHint);
    }

    private static String comm(long pid) {
        try {
            return Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "comm")).trim();
        } catch (java.io.IOException e) {
            return "<gone>";
        }
    }
}
