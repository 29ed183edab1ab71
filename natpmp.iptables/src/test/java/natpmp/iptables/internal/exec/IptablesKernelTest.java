// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.exec;

import static natpmp.iptables.internal.core.Fixtures.HOST;
import static natpmp.iptables.internal.core.Fixtures.SSH;
import static natpmp.iptables.internal.core.Fixtures.VPN;
import static natpmp.iptables.internal.core.Fixtures.WEB;
import static natpmp.iptables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.iptables.internal.core.Fixtures.ip;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BooleanSupplier;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.iptables.internal.core.Fixtures;
import natpmp.iptables.internal.core.IptablesSettings;
import natpmp.iptables.internal.core.JumpCounts;
import natpmp.iptables.internal.core.OwnerChains;
import natpmp.iptables.internal.core.Rule;
import natpmp.iptables.internal.core.SavedRules;
import natpmp.iptables.internal.core.Variant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real kernel tier: each test makes its own network namespace and drives real iptables (nft and legacy)
 * inside it. Runs as root; under CI=true a missing tool fails instead of skipping.
 */
class IptablesKernelTest {
    private static final OwnerChains NATPMP = OwnerChains.of("natpmp");
    private static final FirewallState THREE_AND_A_BINDING = Fixtures.threeForwardsAndABinding(WITH_ADDRESS);
    private static final Duration REPAIR_DEADLINE = Duration.ofSeconds(2);

    private static IptablesFirewall firewall(NetnsLab lab, Variant variant, long watchMs) {
        return firewall(lab, variant, watchMs, 5000);
    }

    private static IptablesFirewall firewall(NetnsLab lab, Variant variant, long watchMs, long timeoutMs) {
        return new IptablesFirewall(lab.runner(), IptablesSettings.of(variant, timeoutMs, watchMs),
                InstantSource.system());
    }

    @ParameterizedTest
    @EnumSource(names = {"NFT", "LEGACY"})
    void reconcileReadBackChangeAndRelease(Variant variant) throws Exception {
        NetnsLab.requirePrerequisites(variant);
        try (NetnsLab lab = NetnsLab.create()) {
            String iptables = NetnsLab.iptables(variant);
            // the operator's own rules, which we must never touch
            lab.exec(iptables, "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE");
            lab.exec(iptables, "-A", "FORWARD", "-j", "DROP");
            IptablesFirewall fw = firewall(lab, variant, 0);

            fw.reconcile("natpmp", THREE_AND_A_BINDING);
            assertThat(fw.installed("natpmp")).isEqualTo(THREE_AND_A_BINDING);
            SavedRules saved = SavedRules.parse(lab.save(variant));
            assertThat(saved.rules(Rule.FILTER, "FORWARD")).as("our jump precedes the DROP")
                    .containsExactly("-j " + NATPMP.fwd(), "-j DROP");

            fw.reconcile("natpmp", THREE_AND_A_BINDING);
            assertThat(SavedRules.parse(lab.save(variant)).jumps(NATPMP)).as("idempotent jumps")
                    .isEqualTo(JumpCounts.ONCE);

            PortForward dns = new PortForward(Protocol.UDP, 53, ip("192.168.50.13"), 5353);
            HostBinding second = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
            fw.apply("natpmp", new FirewallChange(Set.of(dns), Set.of(VPN), Set.of(second), Set.of()));
            FirewallState changed = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH, dns), Set.of(HOST, second));
            assertThat(fw.installed("natpmp")).isEqualTo(changed);

            Set<PortForward> hundred = Fixtures.many(100);
            long start = System.nanoTime();
            fw.apply("natpmp", FirewallChange.forwards(hundred, Set.of()));
            System.out.printf("[%s] change batch of 100 forwards: %d ms%n", variant, ms(start));
            assertThat(fw.installed("natpmp").forwards()).hasSize(103).containsAll(hundred);

            fw.release("natpmp");
            String after = lab.save(variant);
            assertThat(after).doesNotContain("NATPMP").contains("-A POSTROUTING -o wan0 -j MASQUERADE")
                    .contains("-A FORWARD -j DROP");
            assertThat(fw.health().state()).isEqualTo(Health.OK);
            fw.close();
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"NFT", "LEGACY"})
    void watchdogRestoresRulesRemovedFromOutside(Variant variant) throws Exception {
        NetnsLab.requirePrerequisites(variant);
        try (NetnsLab lab = NetnsLab.create()) {
            String iptables = NetnsLab.iptables(variant);
            IptablesFirewall fw = firewall(lab, variant, 1000);
            fw.start();
            try {
                fw.reconcile("natpmp", THREE_AND_A_BINDING);

                lab.exec(iptables, "-t", "nat", "-F");
                long flushed = System.nanoTime();
                assertThat(within(REPAIR_DEADLINE, () -> intact(lab, variant, fw)))
                        .as("restored within %s after iptables -t nat -F", REPAIR_DEADLINE).isTrue();
                System.out.printf("[%s] nat flush repaired after %d ms%n", variant, ms(flushed));
                assertThat(fw.health().repairs()).isGreaterThanOrEqualTo(1);

                lab.exec(iptables, "-D", "FORWARD", "-j", NATPMP.fwd());
                assertThat(within(REPAIR_DEADLINE, () -> intact(lab, variant, fw)))
                        .as("FORWARD jump restored").isTrue();
                assertThat(fw.health().repairs()).isGreaterThanOrEqualTo(2);
                assertThat(within(REPAIR_DEADLINE, () -> fw.health().state() == Health.OK)).isTrue();
            } finally {
                fw.close();
            }
            assertThat(lab.save(variant)).as("close removes everything we own").doesNotContain("NATPMP");
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"NFT", "LEGACY"})
    void tenThousandForwards(Variant variant) throws Exception {
        NetnsLab.requirePrerequisites(variant);
        try (NetnsLab lab = NetnsLab.create()) {
            // Any -D makes iptables-nft fetch the whole chain: with 50,000 rules on a loaded 2-core box a batch
            // took more than the default 5 s (see the report); this test is functional, not about timing.
            IptablesFirewall fw = firewall(lab, variant, 0, 60_000);
            Set<PortForward> many = Fixtures.many(10_000);
            FirewallState state = new FirewallState(WITH_ADDRESS, many, Set.of(HOST));
            long start = System.nanoTime();
            fw.reconcile("natpmp", state);
            System.out.printf("[%s] reconcile of 10,000 forwards (50,003 rules): %d ms%n", variant, ms(start));
            start = System.nanoTime();
            fw.watchOnce();
            System.out.printf("[%s] one watchdog round over 10,000 forwards: %d ms%n", variant, ms(start));
            assertThat(fw.health().state()).isEqualTo(Health.OK);
            assertThat(fw.installed("natpmp")).isEqualTo(state);

            Set<PortForward> next = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                next.add(new PortForward(Protocol.TCP, 40_000 + i, ip("192.168.50.200"), 40_000 + i));
            }
            Set<PortForward> gone = new HashSet<>(Fixtures.many(100));
            start = System.nanoTime();
            fw.apply("natpmp", FirewallChange.forwards(next, gone));
            System.out.printf("[%s] change batch of 100 adds + 100 removes on top of 10,000: %d ms%n", variant,
                    ms(start));
            assertThat(fw.installed("natpmp").forwards()).hasSize(10_000).containsAll(next).doesNotContainAnyElementsOf(gone);
            start = System.nanoTime();
            fw.close();
            System.out.printf("[%s] close (release) with 10,000 forwards: %d ms%n", variant, ms(start));
            assertThat(lab.save(variant)).doesNotContain("NATPMP");
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"NFT", "LEGACY"})
    void queueRulesInTheKernel(Variant variant) throws Exception {
        NetnsLab.requirePrerequisites(variant);
        try (NetnsLab lab = NetnsLab.create()) {
            String iptables = NetnsLab.iptables(variant);
            lab.exec(iptables, "-t", "mangle", "-A", "POSTROUTING", "-o", "wan0", "-j", "ACCEPT");
            IptablesFirewall fw = firewall(lab, variant, 0);
            FirewallState queued = Fixtures.netmapWithQueue(WITH_ADDRESS);
            fw.reconcile("netmap", queued);
            assertThat(fw.installed("netmap")).isEqualTo(queued);
            OwnerChains netmap = OwnerChains.of("netmap");
            SavedRules saved = SavedRules.parse(lab.save(variant));
            assertThat(saved.rules(Rule.MANGLE, "POSTROUTING")).as("our jump precedes the operator's rule")
                    .containsExactly("-j " + netmap.que(), "-o wan0 -j ACCEPT");

            HostBinding third = new HostBinding(ip("192.168.50.22"), ip("198.18.0.7"));
            fw.apply("netmap", new FirewallChange(Set.of(), Set.of(), Set.of(third), Set.of(HOST)));
            FirewallState after = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(Fixtures.SECOND, third),
                    queued.queueRules());
            assertThat(fw.installed("netmap")).isEqualTo(after);
            assertThat(SavedRules.parse(lab.save(variant)).rules(Rule.MANGLE, netmap.que()))
                    .as("RETURN rules stay between the guards and the NFQUEUE rules").containsExactly(
                            "-m conntrack ! --ctstate NEW -j RETURN", "! -o wan0 -j RETURN",
                            "-s 192.168.50.22/32 -j RETURN", "-s 192.168.50.21/32 -j RETURN",
                            "-s 192.168.50.32/28 -j NFQUEUE --queue-num 4661",
                            "-s 192.168.50.0/24 -j NFQUEUE --queue-num 4660");
            fw.watchOnce();
            assertThat(fw.health().repairs()).as("the watchdog agrees with the kernel").isZero();

            fw.reconcile("netmap", new FirewallState(WITH_ADDRESS, Set.of(), after.bindings()));
            assertThat(SavedRules.parse(lab.save(variant)).rules(Rule.MANGLE, netmap.que())).as("no queue rules")
                    .isEmpty();
            fw.close();
            assertThat(lab.save(variant)).doesNotContain("NATPMP").contains("-A POSTROUTING -o wan0 -j ACCEPT");
        }
    }

    @org.junit.jupiter.api.Test
    void autoVariantFollowsWhatIptablesSays() throws Exception {
        NetnsLab.requirePrerequisites(Variant.NFT);
        NetnsLab.requirePrerequisites(Variant.LEGACY);
        try (NetnsLab lab = NetnsLab.create()) {
            String version = lab.exec("iptables", "-V");
            Variant expected = version.contains("(legacy)") ? Variant.LEGACY : Variant.NFT;
            Variant other = expected == Variant.NFT ? Variant.LEGACY : Variant.NFT;
            IptablesFirewall fw = firewall(lab, Variant.AUTO, 0);
            fw.reconcile("natpmp", THREE_AND_A_BINDING);
            assertThat(lab.save(expected)).as("rules land where %s shows them", version.strip()).contains(NATPMP.pre());
            assertThat(lab.save(other)).doesNotContain("NATPMP");
            fw.close();
            assertThat(lab.save(expected)).doesNotContain("NATPMP");
        }
    }

    private static boolean intact(NetnsLab lab, Variant variant, IptablesFirewall fw) {
        try {
            return SavedRules.parse(lab.save(variant)).jumps(NATPMP).exactlyOnce()
                    && fw.installed("natpmp").equals(THREE_AND_A_BINDING);
        } catch (FirewallException | natpmp.exec.CommandException e) {
            return false;
        }
    }

    /** Polls until {@code condition} holds or the deadline passes; no timing is asserted by sleeping. */
    private static boolean within(Duration deadline, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(25);
        }
        return condition.getAsBoolean();
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
