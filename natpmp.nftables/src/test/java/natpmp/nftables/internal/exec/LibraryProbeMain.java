// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.exec.SystemProcessRunner;
import natpmp.nftables.internal.core.Fixtures;
import natpmp.nftables.internal.core.NftSettings;

/**
 * Runs in a JVM that {@link LibNftablesKernelTest} starts inside its network namespace ({@code ip netns exec}):
 * libnftables talks netlink from the calling process, and a JVM cannot move one thread to another namespace.
 * Prints {@code key=value} lines the test asserts on; exits 0 unless something threw.
 *
 * <p>Modes: {@code roundtrip} (reconcile, change, read back, a refused transaction, recovery; leaves its table
 * for the test to read with {@code nft}) and {@code scale} (10,000 forwards, a 100-change batch and 1,000 single
 * changes through LIBRARY and PROCESS, timed).
 */
public final class LibraryProbeMain {
    /** The second desired state of {@code roundtrip}, which it leaves installed. */
    static final PortForward GAME = new PortForward(Protocol.UDP, 3074, ip("192.168.50.30"), 3074);
    /** Second binding of the {@code roundtrip} change. */
    static final HostBinding SECOND = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
    /** What {@code roundtrip} leaves in the kernel for the owner {@code natpmp}. */
    static final FirewallState LEFT = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH, GAME), Set.of(HOST, SECOND));

    private static final NftSettings SETTINGS = NftSettings.of("natpmp", 30_000, 0, "LIBRARY");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private LibraryProbeMain() {
    }

    /**
     * @param args {@code roundtrip} or {@code scale}
     * @throws Exception anything unexpected: the JVM exits non-zero with the stack trace
     */
    public static void main(String[] args) throws Exception {
        System.out.println("probe.maxHeapMiB=" + Runtime.getRuntime().maxMemory() / (1024 * 1024));
        switch (args[0]) {
            case "roundtrip" -> roundtrip();
            case "scale" -> scale();
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        System.out.println("probe.done=true");
    }

    private static void roundtrip() throws Exception {
        NftablesFirewall firewall = new NftablesFirewall(LibNftables.open(), SETTINGS, InstantSource.system());
        System.out.println("engine=" + firewall.engineName());
        FirewallState desired = Fixtures.threeForwardsAndABinding(WITH_ADDRESS);
        firewall.reconcile("natpmp", desired);
        System.out.println("reconcile.readback=" + firewall.installed("natpmp").equals(desired));

        firewall.apply("natpmp", new FirewallChange(Set.of(GAME), Set.of(VPN), Set.of(SECOND), Set.of()));
        System.out.println("change.readback=" + firewall.installed("natpmp").equals(LEFT));

        // Someone replaces our set by a map of the same name (through a second context of the library): the
        // next transaction cannot declare the set, and the error text must come back.
        try (LibNftables other = LibNftables.open()) {
            other.run("flush chain ip natpmp fwd_natpmp\ndelete set ip natpmp bindhosts_natpmp\n"
                    + "add map ip natpmp bindhosts_natpmp { type ipv4_addr : ipv4_addr; }\n", TIMEOUT);
            try {
                firewall.reconcile("natpmp", LEFT);
                System.out.println("refused=false");
            } catch (FirewallException e) {
                System.out.println("refused=true");
                System.out.println("refused.status=" + e.exitStatus());
                System.out.println("refused.command=" + String.join(" ", e.command()));
                System.out.println("refused.stderr=" + e.stderr().replace('\n', ' '));
                System.out.println("refused.health=" + firewall.health().state());
            }
            other.run("delete table ip natpmp\n", TIMEOUT); // the operator cleans up
        }
        firewall.reconcile("natpmp", LEFT);
        System.out.println("recovered.health=" + firewall.health().state());
        System.out.println("recovered.readback=" + firewall.installed("natpmp").equals(LEFT));
        // no close: the table stays for the test to read with nft from outside this JVM
    }

    private static void scale() throws Exception {
        for (String engine : List.of("library", "process")) {
            NftEngine e = engine.equals("library") ? LibNftables.open()
                    : new NftProcessEngine(new SystemProcessRunner());
            NftablesFirewall firewall = new NftablesFirewall(e, SETTINGS, InstantSource.system());
            try {
                firewall.reconcile("natpmp", Fixtures.threeForwardsAndABinding(WITH_ADDRESS));
                singles(firewall, engine + ".small", 40_000);

                Set<PortForward> forwards = Fixtures.many(10_000, 20_000);
                FirewallState large = new FirewallState(WITH_ADDRESS, forwards, Set.of(HOST));
                long t0 = System.nanoTime();
                firewall.reconcile("natpmp", large);
                long t1 = System.nanoTime();
                boolean same = firewall.installed("natpmp").equals(large);
                long t2 = System.nanoTime();
                System.out.println(engine + ".reconcile10k.readback=" + same);
                System.out.println(engine + ".reconcile10k.ms=" + (t1 - t0) / 1_000_000);
                System.out.println(engine + ".readback10k.ms=" + (t2 - t1) / 1_000_000);

                List<PortForward> remove = new ArrayList<>(forwards).subList(0, 50);
                Set<PortForward> add = Fixtures.many(50, 45_000);
                long t3 = System.nanoTime();
                firewall.apply("natpmp", FirewallChange.forwards(add, new HashSet<>(remove)));
                long t4 = System.nanoTime();
                Set<PortForward> expected = new HashSet<>(forwards);
                remove.forEach(expected::remove);
                expected.addAll(add);
                System.out.println(engine + ".batch100.readback=" + firewall.installed("natpmp").forwards()
                        .equals(expected));
                System.out.println(engine + ".batch100.ms=" + (t4 - t3) / 1_000_000);

                singles(firewall, engine + ".at10k", 50_000);
                System.out.println(engine + ".at10k.readback=" + firewall.installed("natpmp").forwards()
                        .equals(expected));
            } finally {
                firewall.close();
            }
        }
    }

    /** 500 single-forward additions, then their 500 removals, one transaction each. */
    private static void singles(NftablesFirewall firewall, String label, int firstPort) throws FirewallException {
        List<PortForward> each = new ArrayList<>(Fixtures.many(500, firstPort));
        long t0 = System.nanoTime();
        for (PortForward f : each) {
            firewall.apply("natpmp", FirewallChange.forwards(Set.of(f), Set.of()));
        }
        long t1 = System.nanoTime();
        boolean present = firewall.installed("natpmp").forwards().containsAll(each);
        long t2 = System.nanoTime();
        for (PortForward f : each) {
            firewall.apply("natpmp", FirewallChange.forwards(Set.of(), Set.of(f)));
        }
        long t3 = System.nanoTime();
        boolean gone = firewall.installed("natpmp").forwards().stream().noneMatch(each::contains);
        System.out.println(label + ".singles.readback=" + (present && gone));
        System.out.println(label + ".singles.addUs=" + (t1 - t0) / 1000 / each.size());
        System.out.println(label + ".singles.removeUs=" + (t3 - t2) / 1000 / each.size());
        System.out.println(label + ".singles.perChangeUs=" + ((t1 - t0) + (t3 - t2)) / 1000 / (2 * each.size()));
    }
}
