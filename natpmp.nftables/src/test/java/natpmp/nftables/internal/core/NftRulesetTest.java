// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.NATPMP;
import static natpmp.nftables.internal.core.Fixtures.NETMAP;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Read-back from real {@code nft -j} output, captured from nft 1.0.6 after applying the golden scripts
 * reconcile-fresh, reconcile-second-owner and change in that order.
 */
class NftRulesetTest {
    /** The natpmp owner's state after change.nft. */
    private static final FirewallState NATPMP_STATE = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH),
            Set.of(new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"))));
    private static final FirewallState NETMAP_STATE = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(HOST));

    private static NftRuleset read(String name) {
        return NftRuleset.parse(Golden.read(name), "natpmp");
    }

    @Test
    @DisplayName("read-back of each owner equals what was written, and only that owner's entries")
    void readBackPerOwner() {
        NftRuleset r = read("list-two-owners.json");
        assertThat(r.hasTable()).isTrue();
        assertThat(r.installed(NATPMP, Optional.of(WITH_ADDRESS))).isEqualTo(NATPMP_STATE);
        assertThat(r.installed(NETMAP, Optional.of(WITH_ADDRESS))).isEqualTo(NETMAP_STATE);
        assertThat(r.installed(OwnerNames.of("other"), Optional.of(WITH_ADDRESS)).forwards()).isEmpty();
        assertThat(r.check(NATPMP, NATPMP_STATE)).isEmpty();
        assertThat(r.check(NETMAP, NETMAP_STATE)).isEmpty();
    }

    @Test
    @DisplayName("fingerprint read-back (the watchdog's, memory independent of the table size) judges like the full one")
    void fingerprintsJudgeLikeTheFullListing() {
        FirewallState fewer = new FirewallState(WITH_ADDRESS, Set.of(WEB), NATPMP_STATE.bindings());
        for (String listing : List.of("list-two-owners.json", "list-element-deleted.json")) {
            NftRuleset full = read(listing);
            NftRuleset lean = NftRuleset.parseFingerprints(Golden.read(listing), "natpmp");
            for (FirewallState state : List.of(NATPMP_STATE, fewer)) {
                assertThat(lean.check(NATPMP, state).isPresent()).as("%s against %s", listing, state)
                        .isEqualTo(full.check(NATPMP, state).isPresent());
            }
            assertThat(lean.check(NETMAP, NETMAP_STATE)).isEmpty();
        }
        assertThat(NftRuleset.parseFingerprints(Golden.read("list-element-deleted.json"), "natpmp")
                .check(NATPMP, NATPMP_STATE)).hasValueSatisfying(p -> assertThat(p)
                        .contains("targets_natpmp has 1 elements, not the 2 expected"));
        // the same count with one element changed is still told apart
        FirewallState moved = new FirewallState(WITH_ADDRESS, Set.of(WEB, new natpmp.api.PortForward(SSH.protocol(),
                SSH.externalPort() + 1, SSH.internalAddress(), SSH.internalPort())), NATPMP_STATE.bindings());
        assertThat(NftRuleset.parseFingerprints(Golden.read("list-two-owners.json"), "natpmp").check(NATPMP, moved))
                .hasValueSatisfying(p -> assertThat(p).contains("dnat_natpmp has 2 elements, not the 2 expected ones"));
    }

    @Test
    @DisplayName("without a known topology the external interface is read from the rules")
    void interfaceFromRules() {
        FirewallState s = read("list-two-owners.json").installed(NATPMP, Optional.empty());
        assertThat(s.topology().externalInterface()).isEqualTo("wan0");
        assertThat(s.forwards()).containsExactlyInAnyOrder(WEB, SSH);
    }

    @Test
    @DisplayName("a deleted element makes its forward not installed and the check name the set")
    void deletedElement() {
        NftRuleset r = read("list-element-deleted.json");
        assertThat(r.installed(NATPMP, Optional.of(WITH_ADDRESS)).forwards()).containsExactly(WEB);
        assertThat(r.check(NATPMP, NATPMP_STATE)).hasValueSatisfying(
                p -> assertThat(p).contains("targets_natpmp misses 1 and has 0 unexpected elements"));
        assertThat(r.check(NETMAP, NETMAP_STATE)).isEmpty();
    }

    @Test
    @DisplayName("a state that differs from the kernel is reported, extra elements too")
    void extraElements() {
        FirewallState fewer = new FirewallState(WITH_ADDRESS, Set.of(WEB), NATPMP_STATE.bindings());
        assertThat(read("list-two-owners.json").check(NATPMP, fewer)).hasValueSatisfying(
                p -> assertThat(p).contains("dnat_natpmp misses 0 and has 1 unexpected elements"));
    }

    @Test
    @DisplayName("the rule count depends on the topology: no hairpin rules expected without an address")
    void ruleCounts() {
        FirewallState noAddress = new FirewallState(Fixtures.WITHOUT_ADDRESS, NATPMP_STATE.forwards(),
                NATPMP_STATE.bindings());
        assertThat(read("list-two-owners.json").check(NATPMP, noAddress))
                .hasValueSatisfying(p -> assertThat(p).contains("chain pre_natpmp has 3 of 2 rules"));
    }

    @Test
    @DisplayName("the cheap check on 'list chains' sees every chain, and a flushed ruleset")
    void chainsListing() {
        assertThat(read("list-chains.json").checkChains(List.of(NATPMP, NETMAP))).isEmpty();
        assertThat(read("list-chains.json").checkChains(List.of(OwnerNames.of("gone"))))
                .hasValue("chain pre_gone is missing; chain post_gone is missing; chain fwd_gone is missing;"
                        + " chain queue_gone is missing");
        assertThat(read("list-chains-empty.json").hasTable()).isFalse();
        assertThat(read("list-chains-empty.json").checkChains(List.of(NATPMP))).hasValue("table is missing");
        assertThat(NftRuleset.absent().installed(NATPMP, Optional.of(WITH_ADDRESS)))
                .isEqualTo(FirewallState.empty(WITH_ADDRESS));
    }

    @Test
    @DisplayName("protocol numbers (nft -n style) read back as names; other tables are ignored")
    void numericProtocolsAndOtherTables() {
        String json = """
                {"nftables": [{"metainfo": {"version": "1.0.6"}},
                 {"table": {"family": "ip", "name": "natpmp", "handle": 1}},
                 {"set": {"family": "ip", "name": "targets_natpmp", "table": "natpmp",
                   "type": ["ipv4_addr", "inet_proto", "inet_service"], "elem": [{"concat": ["192.168.50.10", 6, 80]}]}},
                 {"map": {"family": "ip", "name": "dnat_natpmp", "table": "other",
                   "type": ["inet_proto", "inet_service"], "map": "ipv4_addr . inet_service",
                   "elem": [[{"concat": [17, 53]}, {"concat": ["10.0.0.1", 53]}]]}},
                 {"set": {"family": "inet", "name": "bindhosts_natpmp", "table": "natpmp", "type": "ipv4_addr",
                   "elem": ["10.9.9.9"]}}]}
                """;
        NftRuleset r = NftRuleset.parse(json, "natpmp");
        assertThat(r.elements("targets_natpmp")).containsExactly("192.168.50.10 . tcp . 80");
        assertThat(r.elements("dnat_natpmp")).isEmpty();
        assertThat(r.elements("bindhosts_natpmp")).isEmpty();
    }

    /**
     * list-queue-rules.json: nft 1.0.6 output after reconcile-queue.nft with each {@code queue num N} replaced by
     * {@code accept} (the kernel of the capture lacks the nft queue expression), then each rule's
     * {@code {"accept": null}} replaced by {@code {"queue": {"num": N}}}, the shape libnftables-json(5) gives.
     */
    @Test
    @DisplayName("queue rules read back with their source and number, only with the bound-source lookup; the check"
            + " counts them")
    void queueRulesReadBack() {
        NftRuleset r = read("list-queue-rules.json");
        FirewallState netmap = Fixtures.netmapWithQueue(WITH_ADDRESS);
        assertThat(r.installed(NETMAP, Optional.of(WITH_ADDRESS))).isEqualTo(netmap);
        assertThat(r.check(NETMAP, netmap)).isEmpty();
        FirewallState fewer = new FirewallState(WITH_ADDRESS, Set.of(), netmap.bindings(), Set.of(Fixtures.QUEUE_LAN));
        assertThat(r.check(NETMAP, fewer)).hasValue("chain queue_netmap has 3 of 1 rules");
        String withoutLookup = Golden.read("list-queue-rules.json").replace("\"@bindhosts_netmap\"", "\"@other\"");
        assertThat(NftRuleset.parse(withoutLookup, "natpmp").installed(NETMAP, Optional.of(WITH_ADDRESS)).queueRules())
                .as("a queue rule that would queue bound hosts is not ours").isEmpty();
    }

    @Test
    void rejectsWhatIsNotNftJson() {
        assertThatThrownBy(() -> NftRuleset.parse("[1, 2]", "natpmp")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NftRuleset.parse("{\"nftables\": 3}", "natpmp"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
