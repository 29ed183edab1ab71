// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static natpmp.iptables.internal.core.Fixtures.HOST;
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
                new FirewallState(WITH_ADDRESS, Set.of(WEB), Set.of()), new JumpCounts(1, 2, 0)));
    }

    @Test
    @DisplayName("N28: without an external address there is no hairpin, the rest works")
    void reconcileWithoutExternalAddress() {
        Golden.assertMatches("reconcile-no-external-address.txt", IptablesScript.reconcile(NATPMP,
                Fixtures.threeForwardsAndABinding(Fixtures.WITHOUT_ADDRESS), new JumpCounts(1, 1, 1)));
    }

    @Test
    @DisplayName("N28: hairpin DNAT and masquerade for each LAN network")
    void reconcileTwoLans() {
        Golden.assertMatches("reconcile-two-lans.txt", IptablesScript.reconcile(NATPMP,
                new FirewallState(Fixtures.TWO_LANS, Set.of(WEB, VPN), Set.of()), new JumpCounts(1, 1, 1)));
    }

    @Test
    @DisplayName("1:1 bindings for the subnet mapper: DNAT, SNAT and forward accept per binding")
    void reconcileBindingsOnly() {
        HostBinding second = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
        Golden.assertMatches("reconcile-bindings.txt", IptablesScript.reconcile(NETMAP,
                new FirewallState(WITH_ADDRESS, Set.of(), Set.of(second, HOST)), JumpCounts.NONE));
    }

    @Test
    @DisplayName("empty state: the chains are declared (emptied) and jumped to, nothing else")
    void reconcileEmpty() {
        Golden.assertMatches("reconcile-empty.txt", IptablesScript.reconcile(NATPMP,
                FirewallState.empty(WITH_ADDRESS), new JumpCounts(1, 1, 1)));
    }

    @Test
    @DisplayName("change: deletions first, then bindings inserted at the top and forwards appended")
    void change() {
        HostBinding second = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
        PortForward dns = new PortForward(Protocol.UDP, 53, ip("192.168.50.13"), 5353);
        FirewallChange change = new FirewallChange(Set.of(SSH, dns), Set.of(VPN), Set.of(second), Set.of(HOST));
        Delta delta = Delta.of(Set.of(WEB, VPN), Set.of(HOST), change);
        Golden.assertMatches("change.txt", IptablesScript.change(NATPMP, WITH_ADDRESS, delta));
    }

    @Test
    @DisplayName("release: jumps deleted as often as they exist, chains emptied and deleted, for several owners")
    void release() {
        Golden.assertMatches("release.txt", IptablesScript.release(List.of(
                new IptablesScript.Release(NATPMP, new JumpCounts(1, 1, 1)),
                new IptablesScript.Release(NETMAP, JumpCounts.NONE))));
    }

    @Test
    void changeOfNothingRendersNothing() {
        Delta delta = Delta.of(Set.of(WEB), Set.of(), FirewallChange.forwards(Set.of(WEB), Set.of(SSH)));
        assertThat(delta.isEmpty()).isTrue();
        assertThat(IptablesScript.change(NATPMP, WITH_ADDRESS, delta)).isEmpty();
    }

    @Test
    void expectedCountsMatchTheRenderedRules() {
        FirewallState state = new FirewallState(Fixtures.TWO_LANS, Set.of(WEB, VPN, SSH), Set.of(HOST));
        String script = IptablesScript.reconcile(NATPMP, state, new JumpCounts(1, 1, 1));
        RuleCounts counts = IptablesScript.expectedCounts(Fixtures.TWO_LANS, 3, 1);
        assertThat(count(script, "-A " + NATPMP.pre() + " ")).isEqualTo(counts.pre()).isEqualTo(3 * 3 + 1);
        assertThat(count(script, "-A " + NATPMP.post() + " ")).isEqualTo(counts.post()).isEqualTo(3 * 3 + 1);
        assertThat(count(script, "-A " + NATPMP.fwd() + " ")).isEqualTo(counts.fwd()).isEqualTo(4);
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
        assertThatThrownBy(() -> OwnerChains.of("NatPmp")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerChains.of("abcdefghij123")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerChains.of("")).isInstanceOf(IllegalArgumentException.class);
        Topology bad = new Topology("eth0 -j ACCEPT", Optional.empty(), List.of());
        assertThatThrownBy(() -> IptablesScript.reconcile(NATPMP, FirewallState.empty(bad), JumpCounts.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("external interface");
    }

    private static long count(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).count();
    }
}
