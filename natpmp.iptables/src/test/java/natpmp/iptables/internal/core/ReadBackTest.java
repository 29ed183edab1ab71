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

import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * save-nat.txt, save-filter.txt and save-mangle.txt were captured from iptables-nft-save in a namespace after
 * restoring reconcile-fresh.txt (owner natpmp) and reconcile-queue.txt (owner netmap, with queue rules) next to
 * foreign rules (a MASQUERADE, a DOCKER chain, a commented DROP in FORWARD, a TCPMSS clamp in mangle
 * POSTROUTING). iptables-legacy-save prints the same lines.
 */
class ReadBackTest {
    private static final OwnerChains NATPMP = OwnerChains.of("natpmp");
    private static final OwnerChains NETMAP = OwnerChains.of("netmap");
    private static final HostBinding SECOND = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
    private static final int S1_SHARDS =
            OwnerChains.shardMask(Fixtures.threeForwardsAndABinding(WITH_ADDRESS).forwards()).cardinality();

    private static SavedRules captured() {
        return SavedRules.parse(Golden.read("save-nat.txt"), Golden.read("save-filter.txt"),
                Golden.read("save-mangle.txt"));
    }

    private static SavedRules capturedWithMangle(String mangle) {
        return SavedRules.parse(Golden.read("save-nat.txt"), Golden.read("save-filter.txt"), mangle);
    }

    @Test
    @DisplayName("round trip: the rendered state, as iptables-save prints it, parses back to the same forwards and bindings")
    void roundTripPerOwner() {
        SavedRules saved = captured();
        assertThat(ReadBack.installed(saved, NATPMP, Optional.of(WITH_ADDRESS)))
                .isEqualTo(Fixtures.threeForwardsAndABinding(WITH_ADDRESS));
        assertThat(ReadBack.installed(saved, NETMAP, Optional.of(WITH_ADDRESS)))
                .isEqualTo(Fixtures.netmapWithQueue(WITH_ADDRESS));
        assertThat(ReadBack.installed(saved, OwnerChains.of("other"), Optional.of(WITH_ADDRESS)))
                .isEqualTo(FirewallState.empty(WITH_ADDRESS));
    }

    @Test
    void readBackWithoutKnownTopologyTakesTheInterfaceFromTheRules() {
        FirewallState state = ReadBack.installed(captured(), NETMAP, Optional.empty());
        assertThat(state.topology().externalInterface()).isEqualTo("wan0");
        assertThat(state.bindings()).containsExactlyInAnyOrder(HOST, SECOND);
        assertThat(state.queueRules()).containsExactlyInAnyOrder(Fixtures.QUEUE_LAN, Fixtures.QUEUE_NARROW);
    }

    @Test
    @DisplayName("queue rules: without the chain's guards none is installed; a binding without its RETURN is not"
            + " installed while the owner queues")
    void incompleteQueueChain() {
        String mangle = Golden.read("save-mangle.txt");
        String noGuard = mangle.replace("-A NATPMP-NETMAP-QUE ! -o wan0 -j RETURN\n", "");
        FirewallState unguarded = ReadBack.installed(capturedWithMangle(noGuard), NETMAP, Optional.of(WITH_ADDRESS));
        assertThat(unguarded.queueRules()).isEmpty();
        assertThat(unguarded.bindings()).as("without queue rules no RETURN is needed")
                .containsExactlyInAnyOrder(HOST, SECOND);

        String noReturn = mangle.replace("-A NATPMP-NETMAP-QUE -s 192.168.50.21/32 -j RETURN\n", "");
        FirewallState state = ReadBack.installed(capturedWithMangle(noReturn), NETMAP, Optional.of(WITH_ADDRESS));
        assertThat(state.queueRules()).hasSize(2);
        assertThat(state.bindings()).containsExactly(HOST);

        String oneQueue = mangle.replace("-A NATPMP-NETMAP-QUE -s 192.168.50.32/28 -j NFQUEUE --queue-num 4661\n", "");
        assertThat(ReadBack.installed(capturedWithMangle(oneQueue), NETMAP, Optional.of(WITH_ADDRESS)).queueRules())
                .containsExactly(Fixtures.QUEUE_LAN);
    }

    @Test
    @DisplayName("watchdog check: a missing mangle jump or an emptied queue chain is noticed")
    void checkNoticesTheQueueChain() {
        RuleCounts counts = IptablesScript.expectedCounts(WITH_ADDRESS, 0, 2, 2, 0);
        String mangle = Golden.read("save-mangle.txt");
        assertThat(ReadBack.check(capturedWithMangle(mangle.replace("-A POSTROUTING -j NATPMP-NETMAP-QUE\n", "")),
                NETMAP, counts)).hasValue("mangle POSTROUTING jumps 0 times to NATPMP-NETMAP-QUE");
        String emptied = mangle.lines().filter(l -> !l.startsWith("-A NATPMP-NETMAP-QUE"))
                .reduce("", (a, b) -> a + b + "\n");
        assertThat(ReadBack.check(capturedWithMangle(emptied), NETMAP, counts))
                .hasValue("mangle chain NATPMP-NETMAP-QUE has 0 of 6 rules");
        assertThat(ReadBack.check(SavedRules.parse(Golden.read("save-nat.txt"), Golden.read("save-filter.txt")),
                NATPMP, IptablesScript.expectedCounts(WITH_ADDRESS, 3, 1, 0, S1_SHARDS)))
                .hasValue("mangle chain NATPMP-NATPMP-QUE is missing");
    }

    @Test
    void jumpsAndChecksOfIntactChains() {
        SavedRules saved = captured();
        assertThat(saved.jumps(NATPMP)).isEqualTo(JumpCounts.ONCE);
        assertThat(saved.jumps(OwnerChains.of("other"))).isEqualTo(JumpCounts.NONE);
        assertThat(ReadBack.check(saved, NATPMP, IptablesScript.expectedCounts(WITH_ADDRESS, 3, 1, 0, S1_SHARDS))).isEmpty();
        assertThat(ReadBack.check(saved, NETMAP, IptablesScript.expectedCounts(WITH_ADDRESS, 0, 2, 2, 0))).isEmpty();
        assertThat(saved.rules(Rule.FILTER, "FORWARD"))
                .contains("-m comment --comment \"operator: drop the rest\" -j DROP");
    }

    @Test
    @DisplayName("a forward missing one of its rules is not reported as installed")
    void incompleteForwardIsNotInstalled() {
        String filter = Golden.read("save-filter.txt").replace(
                "-A NATPMP-NATPMP-FWD-46 -d 192.168.50.12/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -j ACCEPT\n",
                "");
        SavedRules saved = SavedRules.parse(Golden.read("save-nat.txt"), filter, Golden.read("save-mangle.txt"));
        assertThat(ReadBack.installed(saved, NATPMP, Optional.of(WITH_ADDRESS)).forwards())
                .containsExactlyInAnyOrder(WEB, VPN).doesNotContain(SSH);
        assertThat(ReadBack.check(saved, NATPMP, IptablesScript.expectedCounts(WITH_ADDRESS, 3, 1, 0, S1_SHARDS)))
                .hasValue("filter chain NATPMP-NATPMP-FWD and its shards have 6 of 7 rules");
    }

    @Test
    @DisplayName("watchdog check: a flushed nat table, a deleted jump, a deleted chain are all noticed")
    void checkNoticesFlushesAndDeletions() {
        RuleCounts counts = IptablesScript.expectedCounts(WITH_ADDRESS, 3, 1, 0, S1_SHARDS);
        String flushedNat = Golden.read("save-nat.txt").lines().filter(l -> !l.startsWith("-A "))
                .reduce("", (a, b) -> a + b + "\n");
        assertThat(ReadBack.check(SavedRules.parse(flushedNat, Golden.read("save-filter.txt"), Golden.read("save-mangle.txt")), NATPMP, counts))
                .hasValue("nat chain NATPMP-NATPMP-PRE and its shards have 0 of 10 rules; nat chain NATPMP-NATPMP-POST and its"
                        + " shards have 0 of 10 rules");
        String noJump = Golden.read("save-filter.txt").replace("-A FORWARD -j NATPMP-NATPMP-FWD\n", "");
        assertThat(ReadBack.check(SavedRules.parse(Golden.read("save-nat.txt"), noJump, Golden.read("save-mangle.txt")), NATPMP, counts))
                .hasValue("filter FORWARD jumps 0 times to NATPMP-NATPMP-FWD");
        String noChain = noJump.lines().filter(l -> !l.contains("NATPMP-NATPMP-FWD"))
                .reduce("", (a, b) -> a + b + "\n");
        assertThat(ReadBack.check(SavedRules.parse(Golden.read("save-nat.txt"), noChain, Golden.read("save-mangle.txt")), NATPMP, counts))
                .hasValue("filter chain NATPMP-NATPMP-FWD is missing");
    }

    @Test
    void ruleOutsideATableIsRejected() {
        assertThatThrownBy(() -> SavedRules.parse("-A PREROUTING -j X\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1");
    }
}
