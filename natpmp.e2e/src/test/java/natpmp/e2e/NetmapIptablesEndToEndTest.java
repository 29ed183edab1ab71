// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.WAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_PEER;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link NetmapEndToEnd} with the iptables backend: the queue rule in {@code mangle NATPMP-NETMAP-QUE}, the
 * bindings in {@code nat NATPMP-NETMAP-PRE/POST} and {@code filter NATPMP-NETMAP-FWD}. Besides the basic data
 * path: D4 (full pools fall through to the next rule, then to the router's MASQUERADE), the /proc texts over the
 * console (D14, D16), D5 reuse across two prefixes, inbound reachability while a binding is active only (D6, D8),
 * and a crash and restart that keeps the bindings.
 */
class NetmapIptablesEndToEndTest extends NetmapEndToEnd {

    private static final Pattern TABLE_LINE = Pattern.compile(
            "(\\d+\\.\\d+\\.\\d+\\.\\d+) -> (\\d+\\.\\d+\\.\\d+\\.\\d+) --- ttl: (-?\\d+) lasthit: (\\d+)");

    @Override
    protected BackendKind backend() {
        return BackendKind.IPTABLES;
    }

    @Test
    @Order(5)
    void queueRuleLayoutInTheKernel() {
        String rules = lab.gatewayRules();
        assertThat(rules).contains("-A POSTROUTING -j NATPMP-NETMAP-QUE")
                .contains("-A NATPMP-NETMAP-QUE -m conntrack ! --ctstate NEW -j RETURN")
                .contains("-A NATPMP-NETMAP-QUE ! -o wan0 -j RETURN")
                .contains("-A NATPMP-NETMAP-QUE -s 192.168.50.16/28 -j NFQUEUE --queue-num 4660")
                .doesNotContain("queue-bypass");
    }

    @Test
    @Order(30)
    void d4_aFullPoolSendsTheNextHostToTheNextRulesPrefixThenToMasquerade() {
        // d4a: 198.18.1.0/30 holds four hosts; d4b: 198.18.2.0/32 one more; the sixth falls through (D4 continue)
        assertThat(seenAs("192.168.50.33")).isEqualTo("198.18.1.0");
        assertThat(seenAs("192.168.50.34")).isEqualTo("198.18.1.1");
        assertThat(seenAs("192.168.50.35")).isEqualTo("198.18.1.2");
        assertThat(seenAs("192.168.50.36")).isEqualTo("198.18.1.3");
        assertThat(seenAs("192.168.50.37")).isEqualTo("198.18.2.0");
        assertThat(seenAs("192.168.50.38")).as("both pools full: the lab's MASQUERADE").isEqualTo(WAN_GW);
        assertThat(seenAs("192.168.50.38")).as("and again for its next connection").isEqualTo(WAN_GW);
        assertThat(daemon.output()).contains("ip 192.168.50.37 - no free adresses in prefix 198.18.1.0/30");
    }

    @Test
    @Order(40)
    void d14_d16_procTextsServedByTheConsole() {
        Map<String, String[]> pools = procTexts(netmapJson());
        assertThat(pools.keySet()).contains("198.18.0.0/24", "198.18.1.0/30", "198.18.2.0/32", "198.18.3.0/28");
        String table = pools.get("198.18.1.0/30")[0];
        List<String> lines = table.lines().toList();
        assertThat(table).endsWith("\n");
        assertThat(lines).hasSize(4);
        String[][] expected = {{"192.168.50.33", "198.18.1.0"}, {"192.168.50.34", "198.18.1.1"},
            {"192.168.50.35", "198.18.1.2"}, {"192.168.50.36", "198.18.1.3"}};
        for (int i = 0; i < 4; i++) {
            Matcher m = TABLE_LINE.matcher(lines.get(i));
            assertThat(m.matches()).as("D14 line format: %s", lines.get(i)).isTrue();
            assertThat(m.group(1)).isEqualTo(expected[i][0]);
            assertThat(m.group(2)).isEqualTo(expected[i][1]);
            assertThat(Integer.parseInt(m.group(3))).as("ttl of a fresh default-ttl binding").isBetween(500, 600);
        }
        // D16 v2: used, static, all, mean ttl, persistent (empty)
        assertThat(pools.get("198.18.1.0/30")[1]).matches("4 0 4 (5\\d\\d|600)");
        assertThat(pools.get("198.18.2.0/32")[0]).matches(
                "192\\.168\\.50\\.37 -> 198\\.18\\.2\\.0 --- ttl: (5\\d\\d|600) lasthit: \\d+\n");
        // never-bound addresses are listed too (D14): 16 lines for the /28, 0.0.0.0 where nothing is bound
        String ttlPool = pools.get("198.18.3.0/28")[0];
        assertThat(ttlPool.lines()).hasSize(16);
        assertThat(ttlPool).contains("0.0.0.0 -> 198.18.3.15 --- ttl: ");
    }

    @Test
    @Order(50)
    void d5_reuseDecidesWhetherAnExpiredBindingInAnotherPrefixMoves() {
        // first prefixes (ttl 2) take one host each; the second hosts fall through to the second prefixes (ttl 8)
        assertThat(seenAs("192.168.50.65")).isEqualTo("198.18.4.0");
        assertThat(seenAs("192.168.50.81")).isEqualTo("198.18.6.0");
        assertThat(seenAs("192.168.50.66")).isEqualTo("198.18.5.0");
        assertThat(seenAs("192.168.50.82")).isEqualTo("198.18.7.0");

        // the first prefixes' bindings expire and leave the kernel (dnat_expired=false)
        awaitOutOfKernel("198.18.4.0");
        awaitOutOfKernel("198.18.6.0");
        // an active binding in another prefix is kept although the first prefix has room now (D5); the kernel
        // translates it, and its conntrack NEW event refreshes it with the first rule's ttl (2 s)
        assertThat(seenAs("192.168.50.66")).isEqualTo("198.18.5.0");
        assertThat(seenAs("192.168.50.82")).isEqualTo("198.18.7.0");

        // once expired, the next connection is decided again
        awaitOutOfKernel("198.18.5.0");
        awaitOutOfKernel("198.18.7.0");
        assertThat(seenAs("192.168.50.66")).as("without --reuse: dropped, allocated in the first prefix")
                .isEqualTo("198.18.4.0");
        assertThat(seenAs("192.168.50.82")).as("with --reuse: the same address, active again").isEqualTo("198.18.7.0");
        assertThat(daemon.output()).contains("xt_DNETMAP: timeout binding 192.168.50.66 -> 198.18.5.0");
    }

    private void awaitOutOfKernel(String postnat) {
        await(postnat + " left the kernel after its ttl", Duration.ofSeconds(20),
                () -> !lab.gatewayRules().contains("-A NATPMP-NETMAP-PRE -d " + postnat + "/32 "));
    }

    @Test
    @Order(60)
    void d6_d8_inboundReachesTheHostWhileItsBindingIsActiveOnly() {
        String host = "192.168.50.97";
        int port = 7100;
        assertThat(seenAs(host)).isEqualTo("198.18.3.0");
        Traffic.Listener lan = traffic.listen(lab.lan(), "udp", port);
        try {
            assertThat(traffic.passes(lab.wan(), "198.18.3.0", port, lan, Duration.ofSeconds(6)))
                    .as("WAN -> 198.18.3.0 reaches %s while the binding is active", host).isTrue();
            assertThat(lan.peers()).allMatch(p -> p.startsWith(WAN_PEER + ":"));
            // ttl 4 s, refreshed by each new connection (D6); then it expires and leaves the kernel
            awaitOutOfKernel("198.18.3.0");
            assertThat(traffic.blocked(lab.wan(), "198.18.3.0", port, lan))
                    .as("no inbound after the ttl (dnat_expired=false)").isTrue();

            // D8 default (kernel behaviour): an expired binding not yet reused still receives connections
            dnatExpired(true);
            assertThat(traffic.passes(lab.wan(), "198.18.3.0", port, lan, Duration.ofSeconds(15)))
                    .as("dnat_expired=true: the expired binding is DNATed again").isTrue();
        } finally {
            lan.stop();
        }
    }

    @Test
    @Order(90)
    void restartAfterKill9KeepsTheBindings() {
        Map<String, String> before = bindingsOf("198.18.0.0/24");
        assertThat(before).containsEntry("192.168.50.17", "198.18.0.1").hasSize(4);
        assertThat(daemon.kill9()).isEqualTo(137);

        // down: the kernel keeps translating bound hosts; an unbound host is held back (fail closed)
        assertThat(seenAs("192.168.50.17")).isEqualTo("198.18.0.1");
        Background capture = capturePrivateSources("tcpdump-daemon-down");
        assertThat(sendFrom("192.168.50.21")).as("unbound host while nobody reads the queue").isEmpty();
        capture.stop(Duration.ofSeconds(2));
        assertThat(packets(capture)).as("no private source on the WAN side").isEmpty();

        startDaemon();
        assertThat(daemon.output()).contains("netmap: restored");
        assertThat(bindingsOf("198.18.0.0/24")).as("every binding restored").isEqualTo(before);
        assertThat(seenAs("192.168.50.17")).isEqualTo("198.18.0.1");
        String fresh = seenAs("192.168.50.21");
        assertThat(fresh).as("a new host gets a free address").startsWith("198.18.0.")
                .isNotIn(new HashSet<>(before.values()));
    }

    /** prenat -> postnat of the bound lines of a pool's /proc table, as the console serves it. */
    private Map<String, String> bindingsOf(String pool) {
        String table = Optional.ofNullable(procTexts(netmapJson()).get(pool)).map(t -> t[0]).orElse("");
        Map<String, String> bound = new java.util.TreeMap<>();
        for (String line : table.lines().toList()) {
            Matcher m = TABLE_LINE.matcher(line);
            if (m.matches() && !m.group(1).equals("0.0.0.0")) {
                bound.put(m.group(1), m.group(2));
            }
        }
        return bound;
    }
}
