// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.NATPMP;
import static natpmp.nftables.internal.core.Fixtures.NETMAP;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.TWO_LANS;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITHOUT_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;
import static natpmp.nftables.internal.core.Fixtures.threeForwardsAndABinding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.LanNetwork;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.QueueRule;
import natpmp.api.Topology;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Rendering of nft transactions, compared with golden files. */
class NftScriptTest {
    private static final String TABLE = "natpmp";

    @Test
    @DisplayName("N27/N28: first reconcile deletes any old table and writes chains, maps and elements at once")
    void n27_n28_freshReconcile() {
        String script = NftScript.replace(TABLE, true,
                List.of(new NftScript.Section(NATPMP, threeForwardsAndABinding(WITH_ADDRESS))), Set.of("natpmp"));
        Golden.assertMatches("reconcile-fresh.nft", script);
    }

    @Test
    @DisplayName("reconcile of one owner flushes only its chains, maps and sets and rewrites the base chains")
    void reconcileOneOwnerKeepsTheOther() {
        String script = NftScript.replace(TABLE, false,
                List.of(new NftScript.Section(NETMAP, new FirewallState(WITH_ADDRESS, Set.of(), Set.of(HOST)))),
                Set.of("natpmp", "netmap"));
        Golden.assertMatches("reconcile-second-owner.nft", script);
        assertThat(script).doesNotContain("flush map ip natpmp dnat_natpmp").doesNotContain("delete table");
    }

    @Test
    @DisplayName("N28: no hairpin rules while the external address is unknown; N27 masquerade still there")
    void n28_noHairpinWithoutExternalAddress() {
        String script = NftScript.replace(TABLE, true,
                List.of(new NftScript.Section(NATPMP, new FirewallState(WITHOUT_ADDRESS, Set.of(WEB), Set.of()))),
                Set.of("natpmp"));
        Golden.assertMatches("reconcile-no-external-address.nft", script);
        assertThat(script).doesNotContain("ip daddr 203.0.113.1").contains("masquerade to : ip saddr");
    }

    @Test
    @DisplayName("N28: two LANs share one hairpin rule through an anonymous set")
    void n28_twoLans() {
        String script = NftScript.replace(TABLE, true,
                List.of(new NftScript.Section(NATPMP, new FirewallState(TWO_LANS, Set.of(WEB), Set.of()))),
                Set.of("natpmp"));
        Golden.assertMatches("reconcile-two-lans.nft", script);
    }

    @Test
    @DisplayName("the rule count does not grow with the number of mappings")
    void rulesAreStatic() {
        FirewallState small = new FirewallState(WITH_ADDRESS, Set.of(WEB), Set.of());
        FirewallState large = new FirewallState(WITH_ADDRESS, Fixtures.many(1000, 10_000), Set.of(HOST));
        long smallRules = NftScript.replace(TABLE, true, List.of(new NftScript.Section(NATPMP, small)),
                Set.of("natpmp")).lines().filter(l -> l.startsWith("add rule")).count();
        long largeRules = NftScript.replace(TABLE, true, List.of(new NftScript.Section(NATPMP, large)),
                Set.of("natpmp")).lines().filter(l -> l.startsWith("add rule")).count();
        assertThat(largeRules).isEqualTo(smallRules).isEqualTo(3 + 3 + 2 + 4);
    }

    @Test
    @DisplayName("queue rules: one rule each, most specific first, skipping the bound sources by set lookup,"
            + " without bypass (fail closed); jumped to from the postrouting/mangle base chain")
    void queueRules() {
        String script = NftScript.replace(TABLE, false,
                List.of(new NftScript.Section(NETMAP, Fixtures.netmapWithQueue(WITH_ADDRESS))),
                Set.of("natpmp", "netmap"));
        Golden.assertMatches("reconcile-queue.nft", script);
        assertThat(script).doesNotContain("bypass").contains(
                "add chain ip natpmp firstpacket { type filter hook postrouting priority mangle; policy accept; }\n")
                .contains("add rule ip natpmp firstpacket jump queue_netmap\n");
        assertThat(script.lines().filter(l -> l.startsWith("add rule ip natpmp queue_netmap ")).toList()).containsExactly(
                "add rule ip natpmp queue_netmap ct state new oifname \"wan0\" ip saddr 10.0.0.7"
                        + " ip saddr != @bindhosts_netmap queue num 0",
                "add rule ip natpmp queue_netmap ct state new oifname \"wan0\" ip saddr 192.168.50.32/28"
                        + " ip saddr != @bindhosts_netmap queue num 4661",
                "add rule ip natpmp queue_netmap ct state new oifname \"wan0\" ip saddr 192.168.50.0/24"
                        + " ip saddr != @bindhosts_netmap queue num 4660");
        String any = NftScript.replace(TABLE, true, List.of(new NftScript.Section(NETMAP, new FirewallState(WITH_ADDRESS,
                Set.of(), Set.of(), Set.of(new QueueRule(ip("0.0.0.0"), 0, 9))))), Set.of("netmap"));
        assertThat(any).contains("add rule ip natpmp queue_netmap ct state new oifname \"wan0\""
                + " ip saddr != @bindhosts_netmap queue num 9\n");
    }

    @Test
    @DisplayName("a batch of a queued owner changes the bound-source set in the same transaction as the maps")
    void changeUpdatesTheBoundSourcesWithTheMaps() {
        HostBinding third = new HostBinding(ip("192.168.50.22"), ip("198.18.0.7"));
        Delta delta = Delta.of(Set.of(), Set.of(HOST, Fixtures.SECOND),
                new FirewallChange(Set.of(), Set.of(), Set.of(third), Set.of(Fixtures.SECOND)));
        String script = NftScript.change(TABLE, NETMAP, delta);
        assertThat(script).contains("delete element ip natpmp bindhosts_netmap { 192.168.50.21 }\n")
                .contains("add element ip natpmp bindhosts_netmap { 192.168.50.22 }\n")
                .contains("add element ip natpmp bindout_netmap { 192.168.50.22 : 198.18.0.7 }\n");
    }

    @Test
    @DisplayName("a batch deletes map entries by key and set entries by value, then adds")
    void changeBatch() {
        Delta delta = Delta.of(Set.of(WEB, VPN), Set.of(HOST), new FirewallChange(Set.of(SSH), Set.of(VPN),
                Set.of(new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"))), Set.of(HOST)));
        Golden.assertMatches("change.nft", NftScript.change(TABLE, NATPMP, delta));
    }

    @Test
    @DisplayName("release of one owner rewrites the jumps without it and deletes its objects")
    void releaseOneOfTwo() {
        Golden.assertMatches("release.nft", NftScript.release(TABLE, NETMAP, Set.of("natpmp", "netmap")));
    }

    @Test
    @DisplayName("release of the last owner deletes the whole table")
    void releaseLast() {
        assertThat(NftScript.release(TABLE, NATPMP, Set.of("natpmp")))
                .isEqualTo("add table ip natpmp\ndelete table ip natpmp\n");
    }

    @Test
    @DisplayName("large element lists are split into lines of 1000")
    void chunksLargeLists() {
        FirewallState large = new FirewallState(WITH_ADDRESS, Fixtures.many(2500, 10_000), Set.of());
        String script = NftScript.replace(TABLE, true, List.of(new NftScript.Section(NATPMP, large)), Set.of("natpmp"));
        assertThat(script.lines().filter(l -> l.startsWith("add element ip natpmp dnat_natpmp ")).count())
                .isEqualTo(3);
    }

    @Test
    @DisplayName("an iptables-style trailing + becomes nft's * wildcard")
    void wildcardInterface() {
        assertThat(NftScript.quote("ppp+")).isEqualTo("\"ppp*\"");
        assertThat(NftScript.quote("wan0")).isEqualTo("\"wan0\"");
    }

    @Test
    @DisplayName("LAN prefixes inside another LAN prefix are left out (nft refuses overlapping intervals)")
    void overlappingLans() {
        Topology t = new Topology("wan0", Optional.empty(), List.of(new LanNetwork("a", ip("10.1.2.1"), 24),
                new LanNetwork("b", ip("10.0.0.1"), 8), new LanNetwork("c", ip("192.168.1.1"), 24)));
        assertThat(NftScript.lanSet(t)).isEqualTo("{ 10.0.0.0/8, 192.168.1.0/24 }");
    }

    @Test
    @DisplayName("states nft cannot express unambiguously are refused before anything runs")
    void refusesConflicts() {
        PortForward sameExternal = new PortForward(Protocol.TCP, 8080, ip("192.168.50.99"), 81);
        PortForward sameInternal = new PortForward(Protocol.TCP, 8081, ip("192.168.50.10"), 80);
        assertThatThrownBy(() -> NftScript.requireValid(new FirewallState(WITH_ADDRESS, Set.of(WEB, sameExternal),
                Set.of()))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("external port tcp 8080");
        assertThatThrownBy(() -> NftScript.requireValid(new FirewallState(WITH_ADDRESS, Set.of(WEB, sameInternal),
                Set.of()))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("internal port 192.168.50.10 . tcp . 80");
        assertThatThrownBy(() -> NftScript.requireValid(new FirewallState(WITH_ADDRESS, Set.of(),
                Set.of(HOST, new HostBinding(ip("192.168.50.20"), ip("198.18.0.9"))))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("share an address");
        assertThatThrownBy(() -> NftScript.requireValid(FirewallState.empty(
                new Topology("wan\"0", Optional.empty(), List.of())))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("external interface");
    }
}
