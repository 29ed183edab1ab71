// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;
import static natpmp.nftables.internal.core.Fixtures.threeForwardsAndABinding;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.exec.Command;
import natpmp.exec.CommandException;
import natpmp.exec.CommandResult;
import natpmp.exec.ProcessRunner;
import natpmp.exec.SystemProcessRunner;
import natpmp.nftables.internal.core.Fixtures;
import natpmp.nftables.internal.core.NftSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The real kernel tier: real {@code nft} in a network namespace this test creates and deletes. Required when
 * {@code CI=true} (missing tools or rights fail loudly); elsewhere it is skipped loudly without them.
 */
class NftablesKernelTest {
    private static final SystemProcessRunner SYSTEM = new SystemProcessRunner();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private String netns;
    private NftablesFirewall firewall;

    /** Runs every command inside the test's namespace. */
    private record InNamespace(String netns) implements ProcessRunner {
        @Override
        public CommandResult run(Command command) throws CommandException {
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns));
            argv.addAll(command.argv());
            return SYSTEM.run(new Command(argv, command.stdin(), command.timeout()));
        }

        @Override
        public boolean isExecutable(String program) {
            return SYSTEM.isExecutable(program);
        }
    }

    @BeforeEach
    void createNamespace() throws CommandException {
        boolean ci = "true".equals(System.getenv("CI"));
        String missing = SYSTEM.isExecutable("nft") && SYSTEM.isExecutable("ip") ? "" : "nft or ip is not installed";
        String name = "natpmp-nft-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        if (missing.isEmpty()) {
            CommandResult r = SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "add", name));
            missing = r.succeeded() ? "" : "cannot create a network namespace: " + r.stderr().strip();
        }
        if (!missing.isEmpty()) {
            if (ci) {
                throw new AssertionError("CI=true and the kernel tier cannot run: " + missing);
            }
            System.err.println("SKIPPING the nftables kernel tier: " + missing);
            Assumptions.abort("kernel tier needs root, ip and nft: " + missing);
        }
        netns = name;
        firewall = new NftablesFirewall(new InNamespace(netns), NftSettings.of("natpmp", 30_000, 1000),
                InstantSource.system());
    }

    @AfterEach
    void deleteNamespace() throws CommandException {
        if (firewall != null) {
            firewall.close();
        }
        if (netns != null) {
            SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "delete", netns));
        }
    }

    private String nft(String... args) throws CommandException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, "nft"));
        argv.addAll(List.of(args));
        CommandResult r = SYSTEM.run(new Command(argv, "", TIMEOUT));
        assertThat(r.exitStatus()).as("nft %s: %s", List.of(args), r.stderr()).isZero();
        return r.stdout();
    }

    @Test
    @DisplayName("N27/N28: reconcile, read back, apply a change, release: the kernel matches at every step")
    void n27_n28_roundTrip() throws Exception {
        FirewallState desired = threeForwardsAndABinding(WITH_ADDRESS);
        firewall.reconcile("natpmp", desired);
        assertThat(firewall.installed("natpmp")).isEqualTo(desired);
        assertThat(nft("list", "table", "ip", "natpmp")).contains("masquerade to :ip saddr . meta l4proto . th sport"
                + " map @sport_natpmp").contains("type nat hook prerouting priority dstnat");

        HostBinding second = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
        PortForward game = new PortForward(natpmp.api.Protocol.UDP, 3074, ip("192.168.50.30"), 3074);
        firewall.apply("natpmp", new FirewallChange(Set.of(game), Set.of(VPN), Set.of(second), Set.of()));
        assertThat(firewall.installed("natpmp")).isEqualTo(
                new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH, game), Set.of(HOST, second)));

        firewall.release("natpmp");
        assertThat(nft("list", "tables")).doesNotContain("natpmp");
    }

    @Test
    @DisplayName("owners are isolated: releasing one leaves the other's elements in place")
    void ownersAreIsolated() throws Exception {
        FirewallState natpmp = new FirewallState(WITH_ADDRESS, Set.of(WEB, VPN), Set.of());
        FirewallState netmap = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(HOST));
        firewall.reconcile("natpmp", natpmp);
        firewall.reconcile("netmap", netmap);
        assertThat(firewall.installed("natpmp")).isEqualTo(natpmp);
        assertThat(firewall.installed("netmap")).isEqualTo(netmap);
        firewall.release("netmap");
        assertThat(firewall.installed("natpmp")).isEqualTo(natpmp);
        assertThat(firewall.installed("netmap").bindings()).isEmpty();
        assertThat(nft("list", "table", "ip", "natpmp")).doesNotContain("netmap");
    }

    @Test
    @DisplayName("watchdog: an external 'nft flush ruleset' is restored within 2 s; close deletes the table")
    void watchdogRestoresWithinTwoSeconds() throws Exception {
        FirewallState desired = threeForwardsAndABinding(WITH_ADDRESS);
        firewall.reconcile("natpmp", desired);
        firewall.start();
        nft("flush", "ruleset");
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(2).toNanos();
        boolean restored = false;
        while (!restored && System.nanoTime() < deadline) {
            Thread.sleep(50); // polling interval, not a timing assertion
            restored = firewall.installed("natpmp").equals(desired);
        }
        System.out.printf("nftables kernel tier: restored after flush ruleset in %d ms%n",
                (System.nanoTime() - start) / 1_000_000);
        assertThat(restored).as("restored within 2 s").isTrue();
        assertThat(firewall.health().repairs()).isPositive();
        firewall.close();
        assertThat(nft("list", "tables")).doesNotContain("natpmp");
    }

    @Test
    @DisplayName("scale: 10,000 forwards in one transaction, then a 100-element change (times printed)")
    void scale() throws Exception {
        Set<PortForward> forwards = Fixtures.many(10_000, 20_000);
        FirewallState large = new FirewallState(WITH_ADDRESS, forwards, Set.of(HOST));
        long t0 = System.nanoTime();
        firewall.reconcile("natpmp", large);
        long t1 = System.nanoTime();
        FirewallState back = firewall.installed("natpmp");
        long t2 = System.nanoTime();
        assertThat(back).isEqualTo(large);

        Set<PortForward> remove = new HashSet<>();
        for (PortForward f : forwards) {
            if (remove.size() == 50) {
                break;
            }
            remove.add(f);
        }
        Set<PortForward> add = Fixtures.many(50, 40_000).stream()
                .map(f -> new PortForward(f.protocol(), f.externalPort(), ip("192.168.51." + (f.externalPort() % 250 + 2)),
                        f.internalPort()))
                .collect(java.util.stream.Collectors.toSet());
        long t3 = System.nanoTime();
        firewall.apply("natpmp", FirewallChange.forwards(add, remove));
        long t4 = System.nanoTime();
        Set<PortForward> expected = new HashSet<>(forwards);
        expected.removeAll(remove);
        expected.addAll(add);
        assertThat(firewall.installed("natpmp").forwards()).isEqualTo(expected);
        System.out.printf("nftables kernel tier: reconcile 10000 forwards %d ms, read back %d ms, "
                + "change of 100 (50 removed, 50 added) %d ms%n", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                (t4 - t3) / 1_000_000);
    }

    /**
     * Queue rules need the kernel's nft queue expression (CONFIG_NFT_QUEUE). Where it exists the state round-trips
     * and a batch moves the bound sources with the maps; where it does not, the transaction is refused as a whole,
     * the reason is named, nothing of it is installed, and the same owner without queue rules still works. The
     * end-to-end tier requires the expression; this tier checks whichever behaviour the kernel calls for.
     */
    @Test
    @DisplayName("queue rules: installed and read back with the kernel's queue expression, else refused with the reason")
    void queueRulesInstalledOrRefusedWithTheReason() throws Exception {
        FirewallState queued = Fixtures.netmapWithQueue(WITH_ADDRESS);
        FirewallException refused = null;
        try {
            firewall.reconcile("netmap", queued);
        } catch (FirewallException e) {
            refused = e;
        }
        if (refused == null) {
            System.out.println("nftables kernel tier: the kernel has the nft queue expression");
            assertThat(firewall.installed("netmap")).isEqualTo(queued);
            HostBinding third = new HostBinding(ip("192.168.50.22"), ip("198.18.0.7"));
            firewall.apply("netmap", new FirewallChange(Set.of(), Set.of(), Set.of(third), Set.of(HOST)));
            assertThat(firewall.installed("netmap")).isEqualTo(new FirewallState(WITH_ADDRESS, Set.of(),
                    Set.of(Fixtures.SECOND, third), queued.queueRules()));
            assertThat(nft("list", "chain", "ip", "natpmp", "queue_netmap"))
                    .contains("ip saddr 192.168.50.0/24 ip saddr != @bindhosts_netmap queue num 4660");
        } else {
            System.out.println("nftables kernel tier: the kernel lacks the nft queue expression: " + refused.getMessage());
            assertThat(refused.getMessage()).contains("no nft queue expression (CONFIG_NFT_QUEUE");
            assertThat(firewall.installed("netmap").bindings()).as("the refused transaction left nothing").isEmpty();
            FirewallState plain = new FirewallState(WITH_ADDRESS, Set.of(), queued.bindings());
            firewall.reconcile("netmap", plain);
            assertThat(firewall.installed("netmap")).isEqualTo(plain);
        }
        assertThat(nft("list", "chain", "ip", "natpmp", "firstpacket")).contains("type filter hook postrouting"
                + " priority mangle").contains("jump queue_netmap");
    }

    @Test
    @DisplayName("a failing nft in the namespace: FirewallException with stderr, FAILED, then OK after a success")
    void realFailureAndRecovery() throws Exception {
        FirewallState desired = threeForwardsAndABinding(WITH_ADDRESS);
        firewall.reconcile("natpmp", desired);
        // someone replaces our set by a map of the same name: the next transaction cannot declare the set
        nft("flush", "chain", "ip", "natpmp", "fwd_natpmp");
        nft("delete", "set", "ip", "natpmp", "bindhosts_natpmp");
        nft("add", "map", "ip", "natpmp", "bindhosts_natpmp", "{ type ipv4_addr : ipv4_addr; }");
        FirewallException failure = null;
        try {
            firewall.reconcile("natpmp", desired);
        } catch (FirewallException e) {
            failure = e;
        }
        assertThat(failure).as("nft refused the transaction").isNotNull();
        assertThat(failure.exitStatus()).isPositive();
        assertThat(failure.command()).containsExactly("nft", "-f", "-");
        assertThat(failure.stderr()).contains("bindhosts_natpmp");
        assertThat(firewall.health().state()).isEqualTo(natpmp.api.Health.FAILED);

        nft("delete", "table", "ip", "natpmp"); // the operator cleans up
        firewall.reconcile("natpmp", desired);
        assertThat(firewall.health().state()).isEqualTo(natpmp.api.Health.OK);
        assertThat(firewall.installed("natpmp")).isEqualTo(desired);
    }
}
