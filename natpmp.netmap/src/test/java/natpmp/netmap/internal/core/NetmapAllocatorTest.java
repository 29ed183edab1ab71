// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.dnat;
import static natpmp.netmap.internal.core.Rules.ip;
import static natpmp.netmap.internal.core.Rules.snat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

class NetmapAllocatorTest {
    private static final long T0 = 1_000_000;
    private final List<String> log = new ArrayList<>();
    private final NetmapAllocator engine = new NetmapAllocator(NetmapSettings.DEFAULTS,
            new KernelLog(NetmapEvents.NONE, log::add, true));

    private String snatAt(String host, long now) {
        return ip(engine.snat(ip(host), now));
    }

    private String dnatAt(String address, long now) {
        return ip(engine.dnat(ip(address), now));
    }

    @Test
    void d3_wholePrefixAllocatesFromTheNetworkAddressUpward() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/26")), T0);

        assertThat(List.of(snatAt("192.168.0.10", T0), snatAt("192.168.0.11", T0), snatAt("192.168.0.12", T0)))
                .containsExactly("20.0.0.0", "20.0.0.1", "20.0.0.2");
        assertThat(engine.stats(Cidr.parse("20.0.0.0/26"), T0).all()).isEqualTo(64);
    }

    @Test
    void d3_withoutWholePrefixTheNetworkAndBroadcastAddressesAreLeftOut() {
        NetmapRule rule = new NetmapRule("r1", 1, Optional.of(Cidr.parse("192.168.0.0/24")),
                Optional.of(Cidr.parsePrefix("20.0.0.0/30")), Hook.SNAT, OptionalInt.empty(), false, false, false);
        engine.configure(List.of(rule), T0);

        assertThat(List.of(snatAt("192.168.0.10", T0), snatAt("192.168.0.11", T0), snatAt("192.168.0.12", T0)))
                .containsExactly("20.0.0.1", "20.0.0.2", "continue");
        assertThat(engine.procStat(Cidr.parse("20.0.0.0/30"), T0)).isEqualTo("2 0 2 600 \n");
    }

    @Test
    void d3_zeroSizePoolsAreRejected() {
        assertThatThrownBy(() -> new NetmapRule("r1", 1, Optional.empty(), Optional.of(Cidr.parsePrefix("20.0.0.0/31")),
                Hook.SNAT, OptionalInt.empty(), false, false, false))
                .hasMessageContaining("20.0.0.0/31 has no address").hasMessageContaining("D3");
        assertThatThrownBy(() -> new NetmapRule("r1", 1, Optional.empty(), Optional.of(Cidr.parsePrefix("20.0.0.5")),
                Hook.SNAT, OptionalInt.empty(), false, false, false)).hasMessageContaining("has no address");
    }

    @Test
    void d3_aSlash32PoolWithWholePrefixHoldsOneAddress() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.5/32")), T0);

        assertThat(List.of(snatAt("192.168.0.1", T0), snatAt("192.168.0.2", T0)))
                .containsExactly("20.0.0.5", "continue");
    }

    @Test
    void d4_fullPoolFallsThroughToTheNextRule() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30"),
                snat("r2", 2, "192.168.0.0/24", "30.0.0.0/26")), T0);

        List<String> got = new ArrayList<>();
        for (int h = 1; h <= 5; h++) {
            got.add(snatAt("192.168.0." + h, T0));
        }

        assertThat(got).containsExactly("20.0.0.0", "20.0.0.1", "20.0.0.2", "20.0.0.3", "30.0.0.0");
        assertThat(log).contains("xt_DNETMAP: ip 192.168.0.5 - no free adresses in prefix 20.0.0.0/30");
    }

    @Test
    void d4_fullPoolWithoutFurtherRuleReturnsContinue() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/31")), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);

        assertThat(engine.snat(ip("192.168.0.3"), T0)).isEqualTo(NetmapAllocator.NO_TRANSLATION);
    }

    @Test
    void d4_sourcesOutsideTheSubnetAreNotTranslated() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);

        assertThat(snatAt("10.1.1.1", T0)).isEqualTo("continue");
        assertThat(engine.bindingCount()).isZero();
    }

    @Test
    void d4_leastRecentlyRefreshedExpiredEntryIsReusedFirst() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/31", 10, false)), T0);
        snatAt("192.168.0.1", T0);           // .0
        snatAt("192.168.0.2", T0 + 1000);    // .1
        snatAt("192.168.0.1", T0 + 2000);    // refresh .0: now .1 is least recently refreshed

        String third = snatAt("192.168.0.3", T0 + 60_000);

        assertThat(third).isEqualTo("20.0.0.1");
        assertThat(log).contains("xt_DNETMAP: timeout binding 192.168.0.2 -> 20.0.0.1",
                "xt_DNETMAP: add binding 192.168.0.3 -> 20.0.0.1");
    }

    @Test
    void d4_activeBindingsAreNotTakenAway() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/31", 10, false)), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);

        assertThat(snatAt("192.168.0.3", T0 + 10_000)).isEqualTo("continue"); // stamp == now is still active (D16)
        assertThat(snatAt("192.168.0.3", T0 + 10_001)).isEqualTo("20.0.0.0");
    }

    @Test
    void d5_activeBindingInAnotherPrefixIsKeptByAnEarlierRule() {
        engine.configure(List.of(snat("rB", 1, "192.168.0.5/32", "30.0.0.0/30"),
                snat("rA", 2, "192.168.0.0/24", "20.0.0.0/30")), T0);
        assertThat(snatAt("192.168.0.5", T0)).isEqualTo("30.0.0.0");
        // rank swap: rA now first, host still active in B -> keeps its B address
        engine.configure(List.of(snat("rA", 1, "192.168.0.0/24", "20.0.0.0/30"),
                snat("rB", 2, "192.168.0.5/32", "30.0.0.0/30")), T0);

        assertThat(snatAt("192.168.0.5", T0 + 1000)).isEqualTo("30.0.0.0");
    }

    @Test
    void d5_expiredBindingInAnotherPrefixMovesWithoutReuse() {
        engine.configure(List.of(snat("rB", 1, "192.168.0.5/32", "30.0.0.0/30", 10, false)), T0);
        snatAt("192.168.0.5", T0);
        engine.configure(List.of(snat("rA", 1, "192.168.0.0/24", "20.0.0.0/30"),
                snat("rB", 2, "192.168.0.5/32", "30.0.0.0/30", 10, false)), T0);

        assertThat(snatAt("192.168.0.5", T0 + 11_000)).isEqualTo("20.0.0.0");
        assertThat(log).containsSubsequence("xt_DNETMAP: timeout binding 192.168.0.5 -> 30.0.0.0",
                "xt_DNETMAP: add binding 192.168.0.5 -> 20.0.0.0");
        assertThat(engine.bindingCount()).isEqualTo(1);
    }

    @Test
    void d5_expiredBindingInAnotherPrefixIsKeptWithReuse() {
        engine.configure(List.of(snat("rB", 1, "192.168.0.5/32", "30.0.0.0/30", 10, false)), T0);
        snatAt("192.168.0.5", T0);
        engine.configure(List.of(snat("rA", 1, "192.168.0.0/24", "20.0.0.0/30", 200, true),
                snat("rB", 2, "192.168.0.5/32", "30.0.0.0/30", 10, false)), T0);

        assertThat(snatAt("192.168.0.5", T0 + 11_000)).isEqualTo("30.0.0.0");
        // refreshed with this rule's ttl (200 s)
        assertThat(engine.bindings(T0 + 11_000)).singleElement().extracting(NetmapBinding::ttlSeconds).isEqualTo(200L);
    }

    @Test
    void d5_expiredBindingInTheSamePrefixIsReactivatedWithTheSameAddress() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 10, false)), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);

        assertThat(snatAt("192.168.0.2", T0 + 100_000)).isEqualTo("20.0.0.1");
        assertThat(engine.stats(Cidr.parse("20.0.0.0/30"), T0 + 100_000).used()).isEqualTo(1);
    }

    @Test
    void d5_atMostOneBindingPerPrenatGlobally() {
        engine.configure(List.of(snat("rA", 1, "192.168.0.0/24", "20.0.0.0/30", 10, false),
                snat("rB", 2, "192.168.0.0/24", "30.0.0.0/30", 10, false)), T0);
        for (long t = T0; t < T0 + 200_000; t += 7_000) {
            snatAt("192.168.0.1", t);
            snatAt("192.168.0.2", t + 3000);
        }

        assertThat(engine.bindings(T0 + 200_000)).extracting(b -> b.prenat().getHostAddress())
                .containsExactlyInAnyOrder("192.168.0.1", "192.168.0.2");
    }

    @Test
    void d6_ttlSetsTheStampAndRefreshRenewsIt() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 200, false)), T0);
        snatAt("192.168.0.1", T0);
        assertThat(engine.bindings(T0 + 50_000)).singleElement().extracting(NetmapBinding::ttlSeconds).isEqualTo(150L);

        snatAt("192.168.0.1", T0 + 50_000);

        assertThat(engine.bindings(T0 + 50_000)).singleElement().extracting(NetmapBinding::ttlSeconds).isEqualTo(200L);
    }

    @Test
    void d6_defaultTtlIsTheGlobalDefault() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);
        snatAt("192.168.0.1", T0);

        assertThat(engine.bindings(T0)).singleElement().extracting(NetmapBinding::ttlSeconds).isEqualTo(600L);
        engine.settings(new NetmapSettings(30, true, false));
        snatAt("192.168.0.1", T0);
        assertThat(engine.bindings(T0)).singleElement().extracting(NetmapBinding::ttlSeconds).isEqualTo(30L);
    }

    @Test
    void d6_negativeTtlLeavesTheStampAloneAndNewBindingsAreBornExpired() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 100, false)), T0);
        snatAt("192.168.0.1", T0);
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", -5, false)), T0);

        snatAt("192.168.0.1", T0 + 40_000);
        snatAt("192.168.0.2", T0 + 40_000);

        assertThat(engine.bindings(T0 + 40_000)).extracting(NetmapBinding::ttlSeconds).containsExactly(60L, -5L);
    }

    @Test
    void d7_anExpiredEntryBehindAnActiveHeadIsReused() {
        // kernel: head = long-ttl active entry, expired short-ttl entry behind it -> false "no free adresses"
        engine.configure(List.of(snat("short", 1, "192.168.0.2/32", "20.0.0.0/31", 10, false),
                snat("long", 2, "192.168.0.0/24", "20.0.0.0/31", 600, false)), T0);
        snatAt("192.168.0.1", T0);        // long ttl, .0, head of LRU
        snatAt("192.168.0.2", T0 + 1000); // short ttl, .1, behind it

        assertThat(snatAt("192.168.0.3", T0 + 20_000)).isEqualTo("20.0.0.1");
        assertThat(log).noneMatch(l -> l.contains("no free"));
    }

    @Test
    void d8_expiredBindingsStayUntilReclaimedAndStillDnatByDefault() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 10, false),
                dnat("in", 2, Optional.empty(), OptionalInt.of(10))), T0);
        snatAt("192.168.0.10", T0);

        assertThat(engine.bindingCount()).isEqualTo(1);
        assertThat(dnatAt("20.0.0.0", T0 + 60_000)).isEqualTo("192.168.0.10");
        // the DNAT hit refreshed it with the PREROUTING rule's ttl
        assertThat(engine.stats(Cidr.parse("20.0.0.0/30"), T0 + 60_000).used()).isEqualTo(1);
    }

    @Test
    void d8_dnatOfExpiredBindingsCanBeSwitchedOff() {
        engine.settings(new NetmapSettings(600, false, false));
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 10, false),
                dnat("in", 2, Optional.empty(), OptionalInt.of(10))), T0);
        snatAt("192.168.0.10", T0);

        assertThat(dnatAt("20.0.0.0", T0 + 5_000)).isEqualTo("192.168.0.10");
        assertThat(dnatAt("20.0.0.0", T0 + 60_000)).isEqualTo("continue");
    }

    @Test
    void d9_dnatWithoutPrefixCoversAllPoolsAndWithPrefixOnlyItsOwn() {
        engine.configure(List.of(snat("rA", 1, "192.168.0.1/32", "20.0.0.0/30"),
                snat("rB", 2, "192.168.0.2/32", "30.0.0.0/30"),
                dnat("onlyA", 3, Optional.of("20.0.0.0/30"), OptionalInt.empty())), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);

        assertThat(dnatAt("20.0.0.0", T0)).isEqualTo("192.168.0.1");
        assertThat(dnatAt("30.0.0.0", T0)).isEqualTo("continue");
        assertThat(dnatAt("20.0.0.1", T0)).isEqualTo("continue"); // unbound destination

        engine.configure(List.of(snat("rA", 1, "192.168.0.1/32", "20.0.0.0/30"),
                snat("rB", 2, "192.168.0.2/32", "30.0.0.0/30"),
                dnat("all", 3, Optional.empty(), OptionalInt.empty())), T0);
        assertThat(dnatAt("30.0.0.0", T0)).isEqualTo("192.168.0.2");
    }

    @Test
    void d10_snatRuleWithoutPrefixIsRejected() {
        assertThatThrownBy(() -> new NetmapRule("r1", 1, Optional.empty(), Optional.empty(), Hook.BOTH,
                OptionalInt.empty(), false, true, false)).hasMessage("rule r1: a snat rule needs a prefix (SPEC D10)");
    }

    @Test
    void d12_overlappingPoolsAreRefusedWithAPreciseMessage() {
        NetmapAllocator.Configuration c = engine.configure(List.of(snat("big", 1, "192.168.0.0/24", "20.0.0.0/24"),
                snat("small", 2, "192.168.1.0/24", "20.0.0.64/26"),
                snat("same", 3, "192.168.2.0/24", "20.0.0.0/24")), T0);

        assertThat(c.refused()).containsExactly(
                "rule small refused: pool 20.0.0.64/26 overlaps pool 20.0.0.0/24 of rule big (SPEC D12)");
        assertThat(c.accepted()).extracting(NetmapRule::name).containsExactly("big", "same");
        assertThat(engine.pools()).containsExactly(Cidr.parse("20.0.0.0/24"));
    }

    @Test
    void d12_rulesSharingAPoolMustAgreeOnWholePrefix() {
        NetmapRule other = new NetmapRule("b", 2, Optional.empty(), Optional.of(Cidr.parsePrefix("20.0.0.0/24")),
                Hook.SNAT, OptionalInt.empty(), false, false, false);

        NetmapAllocator.Configuration c = engine.configure(
                List.of(snat("a", 1, "192.168.0.0/24", "20.0.0.0/24"), other), T0);

        assertThat(c.refused()).containsExactly("rule b refused: pool 20.0.0.0/24 is used with whole_prefix=true by"
                + " rule a; rules sharing a pool must agree (SPEC D3)");
    }

    @Test
    void d2_poolsThatStayKeepTheirBindingsAndRemovedPoolsLoseThem() {
        engine.configure(List.of(snat("a", 1, "192.168.0.0/24", "20.0.0.0/30"),
                snat("b", 2, "192.168.0.0/24", "20.0.0.0/30"),
                snat("c", 3, "192.168.1.0/24", "30.0.0.0/30")), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.1.1", T0);

        engine.configure(List.of(snat("b", 2, "192.168.0.0/24", "20.0.0.0/30")), T0);

        assertThat(engine.bindings(T0)).extracting(b -> b.prenat().getHostAddress()).containsExactly("192.168.0.1");
        assertThat(engine.pools()).containsExactly(Cidr.parse("20.0.0.0/30"));
        assertThat(log).containsExactly("xt_DNETMAP: new prefix 20.0.0.0/30", "xt_DNETMAP: new prefix 30.0.0.0/30",
                "xt_DNETMAP: add binding 192.168.0.1 -> 20.0.0.0", "xt_DNETMAP: add binding 192.168.1.1 -> 30.0.0.0");
    }

    @Test
    void d16_statisticsCountActiveDynamicBindingsAndMeanTtl() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/26", 100, false),
                snat("r2", 2, "192.168.1.0/24", "20.0.0.0/26", 10, false)), T0);
        snatAt("192.168.0.1", T0);          // stamp T0+100s
        snatAt("192.168.0.2", T0 + 10_000); // stamp T0+110s
        snatAt("192.168.0.3", T0 + 20_500); // stamp T0+120.5s
        snatAt("192.168.1.1", T0);          // stamp T0+10s: expired at T0+20.5s
        engine.addStatic(ip("10.9.9.9"), ip("20.0.0.63"), T0);

        NetmapPoolStats s = engine.stats(Cidr.parse("20.0.0.0/26"), T0 + 20_500);

        // remaining 79.5 + 89.5 + 100 = 269 s over 3 -> 89 (integer division)
        assertThat(s).isEqualTo(new NetmapPoolStats("20.0.0.0/26", 3, 1, 64, 89));
        assertThat(engine.procStat(Cidr.parse("20.0.0.0/26"), T0 + 20_500)).isEqualTo("3 1 64 89 \n");
    }

    @Test
    void d16_emptyPoolStatLineHasTheTrailingSpace() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/26")), T0);

        assertThat(engine.procStat(Cidr.parse("20.0.0.0/26"), T0)).isEqualTo("0 0 64 0 \n");
    }

    @Test
    void d17_noFreeIsLoggedOncePerFullEpisode() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/31", 10, false)), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);
        snatAt("192.168.0.3", T0);
        snatAt("192.168.0.4", T0 + 1);
        snatAt("192.168.0.3", T0 + 11_000); // reclaims: episode over
        snatAt("192.168.0.4", T0 + 11_000);
        snatAt("192.168.0.5", T0 + 11_001);

        assertThat(log.stream().filter(l -> l.contains("no free")).toList()).containsExactly(
                "xt_DNETMAP: ip 192.168.0.3 - no free adresses in prefix 20.0.0.0/31",
                "xt_DNETMAP: ip 192.168.0.5 - no free adresses in prefix 20.0.0.0/31");
    }

    @Test
    void d17_disabledLogSuppressesOnlyThePerBindingLines() {
        List<String> quiet = new ArrayList<>();
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS,
                new KernelLog(NetmapEvents.NONE, quiet::add, false));
        e.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/31")), T0);
        e.snat(ip("192.168.0.1"), T0);
        e.snat(ip("192.168.0.2"), T0);
        e.snat(ip("192.168.0.3"), T0);
        e.remove(ip("192.168.0.1"), T0);
        e.addStatic(ip("10.0.0.1"), ip("20.0.0.0"), T0);
        e.flush(Cidr.parse("20.0.0.0/31"));

        assertThat(quiet).containsExactly("xt_DNETMAP: new prefix 20.0.0.0/31",
                "xt_DNETMAP: adding static binding 10.0.0.1:20.0.0.0", "xt_DNETMAP: flushing prefix 20.0.0.0/31");
    }

    @Test
    void d19_staticBindingEvictsWhatIsInTheWayAndNeverExpires() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30", 10, false)), T0);
        snatAt("192.168.0.1", T0); // .0
        snatAt("192.168.0.2", T0); // .1

        engine.addStatic(ip("192.168.0.1"), ip("20.0.0.1"), T0);

        assertThat(log).containsSubsequence("xt_DNETMAP: remove binding 192.168.0.1 -> 20.0.0.0",
                "xt_DNETMAP: remove binding 192.168.0.2 -> 20.0.0.1",
                "xt_DNETMAP: adding static binding 192.168.0.1:20.0.0.1");
        assertThat(snatAt("192.168.0.1", T0 + 1_000_000)).isEqualTo("20.0.0.1");
        // LRU order is now .2 .3 .0 (freed in place) .1; the static .1 is never handed out, not even when
        // everything else has expired
        assertThat(List.of(snatAt("192.168.0.5", T0), snatAt("192.168.0.6", T0), snatAt("192.168.0.7", T0),
                snatAt("192.168.0.8", T0 + 1_000_000))).containsExactly("20.0.0.2", "20.0.0.3", "20.0.0.0", "20.0.0.2");
        assertThat(snatAt("192.168.0.9", T0 + 1_000_000)).isEqualTo("20.0.0.3");
    }

    @Test
    void d19_staticBindingChecksLikeTheKernel() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);

        assertThatThrownBy(() -> engine.addStatic(ip("192.168.0.1"), ip("21.0.0.1"), T0))
                .hasMessage("postnat ip must belong to postnat prefix: 21.0.0.1");
        assertThatThrownBy(() -> engine.addStatic(ip("20.0.0.2"), ip("20.0.0.1"), T0))
                .hasMessage("prenat ip can't belong to postnat prefix: 20.0.0.2");
    }

    @Test
    void d19_staticRuleNeverAllocates() {
        NetmapRule staticRule = new NetmapRule("s", 1, Optional.of(Cidr.parse("192.168.0.0/24")),
                Optional.of(Cidr.parsePrefix("20.0.0.0/30")), Hook.SNAT, OptionalInt.empty(), false, true, true);
        engine.configure(List.of(staticRule), T0);
        engine.addStatic(ip("192.168.0.9"), ip("20.0.0.3"), T0);

        assertThat(snatAt("192.168.0.1", T0)).isEqualTo("continue");
        assertThat(snatAt("192.168.0.9", T0)).isEqualTo("20.0.0.3");
    }

    @Test
    void d19_removeByEitherAddressUnbinds() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);

        assertThat(engine.remove(ip("192.168.0.1"), T0 + 5000)).isTrue();
        assertThat(engine.remove(ip("20.0.0.1"), T0 + 5000)).isTrue();
        assertThat(engine.remove(ip("20.0.0.1"), T0 + 5000)).isFalse();

        assertThat(engine.bindingCount()).isZero();
        assertThat(engine.procTable(Cidr.parse("20.0.0.0/30"), T0 + 5000, false))
                .startsWith("0.0.0.0 -> 20.0.0.0 --- ttl: 0 lasthit: 1000\n"
                        + "0.0.0.0 -> 20.0.0.1 --- ttl: 0 lasthit: 1000\n");
        assertThat(log).contains("xt_DNETMAP: remove binding 192.168.0.1 -> 20.0.0.0",
                "xt_DNETMAP: remove binding 192.168.0.2 -> 20.0.0.1");
    }

    @Test
    void d19_flushUnbindsEverythingIncludingStatics() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);
        snatAt("192.168.0.1", T0);
        engine.addStatic(ip("10.0.0.1"), ip("20.0.0.3"), T0);

        assertThat(engine.flush(Cidr.parse("20.0.0.0/30"))).isEqualTo(2);

        assertThat(engine.bindingCount()).isZero();
        assertThat(engine.procStat(Cidr.parse("20.0.0.0/30"), T0)).isEqualTo("0 0 4 0 \n");
        assertThat(snatAt("192.168.0.1", T0)).isEqualTo("20.0.0.1"); // LRU continues after the flushed entries
    }

    @Test
    void restoredBindingsKeepTheirAddress() {
        engine.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), T0);
        snatAt("192.168.0.1", T0);
        snatAt("192.168.0.2", T0);
        engine.addStatic(ip("10.0.0.1"), ip("20.0.0.3"), T0);
        List<NetmapAllocator.StoredBinding> saved = engine.storedBindings(T0 + 1000);

        NetmapAllocator fresh = new NetmapAllocator(NetmapSettings.DEFAULTS, NetmapEvents.NONE);
        fresh.configure(List.of(snat("r1", 1, "192.168.0.0/24", "20.0.0.0/30")), 5);
        saved.forEach(b -> fresh.restore(b, 5));

        assertThat(ip(fresh.snat(ip("192.168.0.2"), 5))).isEqualTo("20.0.0.1");
        assertThat(ip(fresh.snat(ip("192.168.0.3"), 5))).isEqualTo("20.0.0.2");
        assertThat(fresh.procStat(Cidr.parse("20.0.0.0/30"), 5)).isEqualTo("3 1 4 599 \n");
    }
}
