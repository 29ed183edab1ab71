// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import static natpmp.nftables.internal.core.Fixtures.NATPMP;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import natpmp.api.FirewallException;
import natpmp.exec.Command;
import natpmp.exec.CommandException;
import natpmp.exec.CommandResult;
import natpmp.exec.SystemProcessRunner;
import natpmp.nftables.internal.core.NftRuleset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The real kernel tier for the LIBRARY engine. libnftables works in the namespace of the calling process, and a
 * JVM cannot move a thread into another namespace, so each test starts {@link LibraryProbeMain} in a fresh JVM
 * under {@code ip netns exec} in a namespace it creates and deletes, and asserts on what the probe prints (and on
 * what {@code nft} reads from outside). Required when {@code CI=true}; elsewhere skipped loudly without root,
 * {@code ip}, {@code nft} or {@code libnftables.so.1}.
 */
class LibNftablesKernelTest {
    private static final SystemProcessRunner SYSTEM = new SystemProcessRunner();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PROBE_TIMEOUT = Duration.ofMinutes(5);

    private String netns;

    @BeforeEach
    void createNamespace() throws CommandException {
        boolean ci = "true".equals(System.getenv("CI"));
        String missing = SYSTEM.isExecutable("nft") && SYSTEM.isExecutable("ip") ? "" : "nft or ip is not installed";
        if (missing.isEmpty()) {
            // Loading the library and creating a context touches no kernel state.
            try (LibNftables probe = LibNftables.open()) {
                assertThat(probe.name()).isEqualTo("library");
            } catch (FirewallException e) {
                missing = e.getMessage();
            }
        }
        String name = "natpmp-lib-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        if (missing.isEmpty()) {
            CommandResult r = SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "add", name));
            missing = r.succeeded() ? "" : "cannot create a network namespace: " + r.stderr().strip();
        }
        if (!missing.isEmpty()) {
            if (ci) {
                throw new AssertionError("CI=true and the libnftables kernel tier cannot run: " + missing);
            }
            System.err.println("SKIPPING the libnftables kernel tier: " + missing);
            Assumptions.abort("libnftables kernel tier needs root, ip, nft and libnftables1: " + missing);
        }
        netns = name;
    }

    @AfterEach
    void deleteNamespace() throws CommandException {
        if (netns != null) {
            SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "delete", netns));
        }
    }

    /** Runs the probe in the namespace and returns its {@code key=value} lines. */
    private Map<String, String> probe(String mode, String maxHeap) throws CommandException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, java, "-Xmx" + maxHeap,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
                LibraryProbeMain.class.getName(), mode));
        CommandResult r = SYSTEM.run(new Command(argv, "", PROBE_TIMEOUT));
        System.out.print(r.stdout().lines().map(l -> "libnftables probe " + mode + ": " + l + "\n")
                .reduce("", String::concat));
        assertThat(r.exitStatus()).as("probe %s exit status; stderr: %s", mode, r.stderr()).isZero();
        Map<String, String> values = new TreeMap<>();
        r.stdout().lines().filter(l -> l.contains("=")).forEach(l -> {
            int eq = l.indexOf('=');
            values.put(l.substring(0, eq), l.substring(eq + 1));
        });
        assertThat(values).containsEntry("probe.done", "true");
        return values;
    }

    private String nft(String... args) throws CommandException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, "nft"));
        argv.addAll(List.of(args));
        CommandResult r = SYSTEM.run(new Command(argv, "", TIMEOUT));
        assertThat(r.exitStatus()).as("nft %s: %s", List.of(args), r.stderr()).isZero();
        return r.stdout();
    }

    @Test
    @DisplayName("N27/N28 engine LIBRARY in a namespace: reconcile, change, read back, a refusal with nft's error"
            + " text, recovery; nft from outside reads the same table")
    void n27_n28_libraryRoundTripInNamespace() throws Exception {
        Map<String, String> p = probe("roundtrip", "64m");
        assertThat(p).containsEntry("engine", "library")
                .containsEntry("reconcile.readback", "true")
                .containsEntry("change.readback", "true")
                .containsEntry("refused", "true")
                .containsEntry("refused.status", String.valueOf(LibNftables.REFUSED))
                .containsEntry("refused.command", "libnftables -f -")
                .containsEntry("refused.health", "FAILED")
                .containsEntry("recovered.health", "OK")
                .containsEntry("recovered.readback", "true");
        assertThat(p.get("refused.stderr")).contains("bindhosts_natpmp");

        // What the library wrote, read by the nft program in the same namespace.
        NftRuleset ruleset = NftRuleset.parse(nft("-j", "list", "table", "ip", "natpmp"), "natpmp");
        assertThat(ruleset.check(NATPMP, LibraryProbeMain.LEFT)).isEmpty();
        assertThat(ruleset.installed(NATPMP, Optional.of(WITH_ADDRESS))).isEqualTo(LibraryProbeMain.LEFT);
    }

    @Test
    @DisplayName("scale with the daemon's -Xmx32m: 10,000 forwards, a 100-change batch and 1,000 single changes"
            + " through LIBRARY and PROCESS read back exactly (times printed, not asserted)")
    void scaleAt32MiBThroughBothEngines() throws Exception {
        Map<String, String> p = probe("scale", "32m");
        for (String engine : List.of("library", "process")) {
            assertThat(p).containsEntry(engine + ".small.singles.readback", "true")
                    .containsEntry(engine + ".reconcile10k.readback", "true")
                    .containsEntry(engine + ".batch100.readback", "true")
                    .containsEntry(engine + ".at10k.singles.readback", "true")
                    .containsEntry(engine + ".at10k.readback", "true");
        }
        System.out.printf("libnftables kernel tier: per single change LIBRARY %s us (%s us at 10k), PROCESS %s us"
                + " (%s us at 10k); reconcile 10k LIBRARY %s ms, PROCESS %s ms; batch of 100 LIBRARY %s ms,"
                + " PROCESS %s ms%n", p.get("library.small.singles.perChangeUs"),
                p.get("library.at10k.singles.perChangeUs"), p.get("process.small.singles.perChangeUs"),
                p.get("process.at10k.singles.perChangeUs"), p.get("library.reconcile10k.ms"),
                p.get("process.reconcile10k.ms"), p.get("library.batch100.ms"), p.get("process.batch100.ms"));
    }
}
