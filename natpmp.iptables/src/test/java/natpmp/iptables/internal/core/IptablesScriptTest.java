// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static natpmp.iptables.internal.core.Fixtures.HOST;
import static natpmp.iptables.internal.core.Fixtures.QUEUE_LAN;
import static natpmp.iptables.internal.core.Fixtures.QUEUE_NARROW;
import static natpmp.iptables.internal.core.Fixtures.SECOND;
import static natpmp.iptables.internal.core.Fixtures.SSH;
import static natpmp.iptables.internal.core.Fixtures.VPN;
import static natpmp.iptables.internal.core.Fixtures.WEB;
import static natpmp.iptables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.iptables.internal.core.Fixtures.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.QueueRule;
import natpmp.api.Topology;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IptablesScriptTest {
    private static final OwnerChains NATPMP = OwnerChains.of("natpmp");
    private static final OwnerChains NETMAP = OwnerChains.of("netmap");

    @Test
    @DisplayName("N27 N28: reconcile of three forwards and a binding, fresh kernel: chains, jumps at the top, rules")
    void reconcileFresh() {
        Golden.assertMatches("reconcile-fresh.txt", IptablesScript.reconcile(NATPMP,
                Fixtures.threeForwardsAndABinding(WITH_ADDRESS), JumpCounts.NONE));
    }

    @Test
    @DisplayName("reconcile never duplicates a jump: present once -> kept, twice -> one deleted, missing -> inserted")
    void reconcileEnsuresExactlyOneJump() {
        Golden.assertMatches("reconcile-jumps-present.txt", IptablesScript.reconcile(NATPMP,
                new FirewallState(WITH_ADDRESS, Set.of(WEB), Set.of()), new JumpCounts(1, 2, 0, 1)));
    }

    @Test
    @DisplayName("N28: without an external address there is no hairpin, the rest works")
    void reconcileWithoutExternalAddress() {
        Golden.assertMatches("reconcile-no-external-address.txt", IptablesScript.reconcile(NATPMP,
                Fixtures.threeForwardsAndABinding(Fixtures.WITHOUT_ADDRESS), JumpCounts.ONCE));
    }

    @Test
    @DisplayName("N28: hairpin DNAT and masquerade for each LAN network")
    void reconcileTwoLans() {
        Golden.assertMatches("reconcile-two-lans.txt", IptablesScript.reconcile(NATPMP,
                new FirewallState(Fixtures.TWO_LANS, Set.of(WEB, VPN), Set.of()), JumpCounts.ONCE));
    }

    @Test
    @DisplayName("1:1 bindings for the subnet mapper: DNAT, SNAT and forward accept per binding")
    void reconcileBindingsOnly() {
        Golden.assertMatches("reconcile-bindings.txt", IptablesScript.reconcile(NETMAP,
                new FirewallState(WITH_ADDRESS, Set.of(), Set.of(SECOND, HOST)), JumpCounts.NONE));
    }

    @Test
    @DisplayName("empty state: the chains are declared (emptied) and jumped to, nothing else")
    void reconcileEmpty() {
        Golden.assertMatches("reconcile-empty.txt", IptablesScript.reconcile(NATPMP,
                FirewallState.empty(WITH_ADDRESS), JumpCounts.ONCE));
    }

    @Test
    @DisplayName("change: deletions first, then bindings inserted at the top and forwards appended")
    void change() {
        HostBinding second = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
        PortForward dns = new PortForward(Protocol.UDP, 53, ip("192.168.50.13"), 5353);
        FirewallChange change = new FirewallChange(Set.of(SSH, dns), Set.of(VPN), Set.of(second), Set.of(HOST));
        Delta delta = Delta.of(Set.of(WEB, VPN), Set.of(HOST), change);
        Golden.assertMatches("change.txt", IptablesScript.change(NATPMP, WITH_ADDRESS, false, Set.of(WEB, VPN), delta));
    }

    @Test
    @DisplayName("release: jumps deleted as often as they exist, chains emptied and deleted, for several owners")
    void release() {
        Golden.assertMatches("release.txt", IptablesScript.release(List.of(
                new IptablesScript.Release(NATPMP, JumpCounts.ONCE),
                new IptablesScript.Release(NETMAP, JumpCounts.NONE))));
        assertThat(IptablesScript.release(List.of(new IptablesScript.Release(NETMAP, JumpCounts.ONCE))))
                .contains("*mangle\n-D POSTROUTING -j NATPMP-NETMAP-QUE\n:NATPMP-NETMAP-QUE - [0:0]\n-X NATPMP-NETMAP-QUE\n");
    }

    @Test
    @DisplayName("release, first step: every chain of every owner declared (emptied), nothing deleted")
    void flushBeforeRelease() {
        Golden.assertMatches("flush.txt", IptablesScript.flush(List.of(NATPMP, NETMAP)));
        assertThat(IptablesScript.flush(List.of(NATPMP))).doesNotContain("-D ", "-X ");
    }

    @Test
    @DisplayName("change: a removed forward is never deleted by its text; its shard is emptied and refilled with the"
            + " forwards it keeps, and a forward added to an unused shard creates the shard and its jump")
    void removalRewritesOnlyItsShard() {
        // 8080 and 8336 share shard 16 (port mod 64); 2222 is in shard 46; 5000 in the unused shard 8
        PortForward sameShard = new PortForward(Protocol.TCP, 8336, ip("192.168.50.14"), 8336);
        PortForward newShard = new PortForward(Protocol.UDP, 5000, ip("192.168.50.15"), 5000);
        Set<PortForward> before = Set.of(WEB, sameShard, SSH);
        Delta delta = Delta.of(before, Set.of(), FirewallChange.forwards(Set.of(newShard), Set.of(sameShard)));
        String script = IptablesScript.change(NATPMP, WITH_ADDRESS, false, before, delta);
        assertThat(script).doesNotContain("-D ").doesNotContain("-46").doesNotContain("-X ")
                .contains(":NATPMP-NATPMP-PRE-16 - [0:0]\n", ":NATPMP-NATPMP-POST-16 - [0:0]\n",
                        ":NATPMP-NATPMP-FWD-16 - [0:0]\n")
                .contains("-A NATPMP-NATPMP-PRE-16 -i wan0 -p tcp -m tcp --dport 8080 -j DNAT")
                .doesNotContain("--dport 8336")
                .contains(":NATPMP-NATPMP-PRE-8 - [0:0]\n", "-A NATPMP-NATPMP-PRE -j NATPMP-NATPMP-PRE-8\n",
                        "-A NATPMP-NATPMP-FWD -j NATPMP-NATPMP-FWD-8\n",
                        "-A NATPMP-NATPMP-PRE-8 -i wan0 -p udp -m udp --dport 5000 -j DNAT");
        assertThat(count(script, "-A NATPMP-NATPMP-PRE -j ")).as("only the new shard gets a jump").isEqualTo(1);
    }

    @Test
    void changeOfNothingRendersNothing() {
        Delta delta = Delta.of(Set.of(WEB), Set.of(), FirewallChange.forwards(Set.of(WEB), Set.of(SSH)));
        assertThat(delta.isEmpty()).isTrue();
        assertThat(IptablesScript.change(NATPMP, WITH_ADDRESS, false, Set.of(WEB), delta)).isEmpty();
    }

    @Test
    void expectedCountsMatchTheRenderedRules() {
        FirewallState state = new FirewallState(Fixtures.TWO_LANS, Set.of(WEB, VPN, SSH), Set.of(HOST));
        String script = IptablesScript.reconcile(NATPMP, state, JumpCounts.ONCE);
        int shards = OwnerChains.shardMask(state.forwards()).cardinality();
        RuleCounts counts = IptablesScript.expectedCounts(Fixtures.TWO_LANS, 3, 1, 0, shards);
        // rules of the owner's chain and of its shards: "-A NATPMP-NATPMP-PRE " and "-A NATPMP-NATPMP-PRE-<k> "
        long jumps = shards;
        assertThat(count(script, "-A " + NATPMP.pre() + "[ -]")).isEqualTo(counts.pre()).isEqualTo(3 * 3 + 1 + jumps);
        assertThat(count(script, "-A " + NATPMP.post() + "[ -]")).isEqualTo(counts.post()).isEqualTo(3 * 3 + 1 + jumps);
        assertThat(count(script, "-A " + NATPMP.fwd() + "[ -]")).isEqualTo(counts.fwd()).isEqualTo(4 + jumps);
        assertThat(count(script, "-A " + NATPMP.que() + " ")).isEqualTo(counts.que()).isZero();

        String queued = IptablesScript.reconcile(NETMAP, Fixtures.netmapWithQueue(WITH_ADDRESS), JumpCounts.ONCE);
        RuleCounts withQueue = IptablesScript.expectedCounts(WITH_ADDRESS, 0, 2, 2, 0);
        assertThat(count(queued, "-A " + NETMAP.que() + " ")).isEqualTo(withQueue.que()).isEqualTo(2 + 2 + 2);
        assertThat(count(queued, "-A " + NETMAP.post() + " ")).isEqualTo(withQueue.post()).isEqualTo(2);
    }

    @Test
    @DisplayName("queue rules: mangle chain after the guards, a RETURN per bound source, most specific NFQUEUE first,"
            + " no --queue-bypass (fail closed)")
    void reconcileWithQueueRules() {
        String script = IptablesScript.reconcile(NETMAP, Fixtures.netmapWithQueue(WITH_ADDRESS), JumpCounts.NONE);
        Golden.assertMatches("reconcile-queue.txt", script);
        assertThat(script).doesNotContain("bypass");
        List<String> que = script.lines().filter(l -> l.startsWith("-A " + NETMAP.que() + " ")).toList();
        assertThat(que.get(que.size() - 2)).endsWith("-s 192.168.50.32/28 -j NFQUEUE --queue-num 4661");
        assertThat(que.get(que.size() - 1)).endsWith("-s 192.168.50.0/24 -j NFQUEUE --queue-num 4660");
    }

    @Test
    @DisplayName("a queue rule for every source has no -s (iptables-save leaves out 0.0.0.0/0)")
    void queueRuleForEverySource() {
        QueueRule any = new QueueRule(ip("0.0.0.0"), 0, 9);
        String script = IptablesScript.reconcile(NETMAP, new FirewallState(WITH_ADDRESS, Set.of(), Set.of(), Set.of(any)),
                JumpCounts.ONCE);
        assertThat(script).contains("\n-A NATPMP-NETMAP-QUE -j NFQUEUE --queue-num 9\n");
    }

    @Test
    @DisplayName("change of a queued owner: RETURN rules deleted with their binding and inserted after the guards,"
            + " in the same script as the SNAT rules")
    void changeKeepsReturnRulesInStep() {
        HostBinding third = new HostBinding(ip("192.168.50.22"), ip("198.18.0.7"));
        FirewallChange change = new FirewallChange(Set.of(), Set.of(), Set.of(third), Set.of(SECOND));
        Delta delta = Delta.of(Set.of(), Set.of(HOST, SECOND), change);
        Golden.assertMatches("change-queue.txt", IptablesScript.change(NETMAP, WITH_ADDRESS, true, Set.of(), delta));
        assertThat(IptablesScript.change(NETMAP, WITH_ADDRESS, false, Set.of(), delta)).doesNotContain("*mangle");
        Delta forwardsOnly = Delta.of(Set.of(), Set.of(HOST), FirewallChange.forwards(Set.of(WEB), Set.of()));
        assertThat(IptablesScript.change(NETMAP, WITH_ADDRESS, true, Set.of(), forwardsOnly)).doesNotContain("*mangle");
    }

    @Test
    @DisplayName("inbound DNAT is limited to the external interface, so LAN traffic to outside hosts is not hijacked")
    void inboundDnatIsLimitedToTheExternalInterface() {
        List<Rule> rules = IptablesScript.rules(NATPMP, Fixtures.WITHOUT_ADDRESS, WEB);
        assertThat(rules).filteredOn(r -> r.spec().contains("-j DNAT"))
                .singleElement().satisfies(r -> assertThat(r.spec()).startsWith("-i wan0 "));
    }

    @Test
    void ownerAndInterfaceNamesAreChecked() {
        assertThat(OwnerChains.of("abcdefghij12").fwd()).isEqualTo("NATPMP-ABCDEFGHIJ12-FWD").hasSizeLessThan(29);
        assertThat(OwnerChains.of("abcdefghij12").que()).isEqualTo("NATPMP-ABCDEFGHIJ12-QUE").hasSizeLessThan(29);
        assertThatThrownBy(() -> OwnerChains.of("NatPmp")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerChains.of("abcdefghij123")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerChains.of("")).isInstanceOf(IllegalArgumentException.class);
        Topology bad = new Topology("eth0 -j ACCEPT", Optional.empty(), List.of());
        assertThatThrownBy(() -> IptablesScript.reconcile(NATPMP, FirewallState.empty(bad), JumpCounts.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("external interface");
    }

    private static long count(String text, String prefix) {
        java.util.regex.Pattern start = java.util.regex.Pattern.compile("^" + prefix);
        return text.lines().filter(l -> start.matcher(l).find()).count();
    }
}
