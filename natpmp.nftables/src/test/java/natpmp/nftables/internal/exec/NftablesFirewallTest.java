// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.NATPMP;
import static natpmp.nftables.internal.core.Fixtures.NETMAP;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.exec.CommandResult;
import natpmp.exec.ScriptedProcessRunner;
import natpmp.exec.ScriptedProcessRunner.Exits;
import natpmp.exec.ScriptedProcessRunner.Throws;
import natpmp.nftables.internal.core.Delta;
import natpmp.nftables.internal.core.Golden;
import natpmp.nftables.internal.core.NftScript;
import natpmp.nftables.internal.core.NftSettings;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The backend's edge against a strict fake runner: ordered argv and exact transactions on stdin. */
class NftablesFirewallTest {
    private static final List<String> APPLY = List.of("nft", "-f", "-");
    private static final List<String> LIST_TABLE = List.of("nft", "-j", "list", "table", "ip", "natpmp");
    private static final List<String> LIST_CHAINS = List.of("nft", "-j", "list", "chains", "ip");
    private static final FirewallState S1 = new FirewallState(WITH_ADDRESS, Set.of(WEB, VPN), Set.of(HOST));

    private final ScriptedProcessRunner runner = new ScriptedProcessRunner(Set.of());
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    private final InstantSource clock = () -> now.get();
    private final NftablesFirewall firewall = new NftablesFirewall(runner, NftSettings.of("natpmp", 5000, 0), clock);

    private void expectApply(String script) {
        runner.expect(APPLY, script::equals, new Exits(new CommandResult(0, "", "")));
    }

    private void expectApplyFails(int status, String stderr) {
        runner.expect(APPLY, s -> true, new Exits(new CommandResult(status, "", stderr)));
    }

    private static String fresh(FirewallState s) {
        return NftScript.replace("natpmp", true, List.of(new NftScript.Section(NATPMP, s)), Set.of("natpmp"));
    }

    @Test
    @DisplayName("reconcile is one nft -f - transaction; the first one of a run starts from a fresh table")
    void reconcileIsOneTransaction() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        // a second owner is written on top, without deleting the first one's table
        FirewallState netmap = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(HOST));
        expectApply(NftScript.replace("natpmp", false, List.of(new NftScript.Section(NETMAP, netmap)),
                Set.of("natpmp", "netmap")));
        firewall.reconcile("netmap", netmap);
        assertThat(runner.pending()).isZero();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
    }

    @Test
    @DisplayName("a failing nft gives argv, exit status and stderr; health FAILED; nothing recorded; next success OK")
    void failureIsReportedAndNotRecorded() throws FirewallException {
        expectApplyFails(1, "Error: Could not process rule: Operation not permitted");
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S1)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.command()).isEqualTo(APPLY);
                    assertThat(e.exitStatus()).isEqualTo(1);
                    assertThat(e.stderr()).contains("Operation not permitted");
                    assertThat(e.getMessage()).contains("nft -f - exited with status 1");
                });
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("not permitted"));
        // not recorded: apply needs a reconcile first, and the next reconcile is fresh again
        assertThatThrownBy(() -> firewall.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of())))
                .hasMessageContaining("reconcile it before apply");
        now.set(now.get().plusSeconds(5));
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(firewall.health().since()).isEqualTo(now.get());
    }

    @Test
    @DisplayName("a missing nft binary and a timeout fail without an exit status")
    void missingBinaryAndTimeout() {
        runner.expect(APPLY, s -> true, new Throws(false));
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S1)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.exitStatus()).isEqualTo(FirewallException.NO_EXIT);
                    assertThat(e.getMessage()).contains("cannot run nft");
                });
        runner.expect(APPLY, s -> true, new Throws(true));
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S1)).isInstanceOfSatisfying(FirewallException.class,
                e -> assertThat(e.getMessage()).contains("timed out"));
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
    }

    @Test
    @DisplayName("apply sends only the element delta in one transaction")
    void applySendsTheDelta() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        FirewallChange change = FirewallChange.forwards(Set.of(SSH), Set.of(VPN));
        expectApply(NftScript.change("natpmp", NATPMP, Delta.of(S1.forwards(), S1.bindings(), change)));
        firewall.apply("natpmp", change);
        firewall.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of())); // nothing to do: no command
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("a refused batch (changed from outside) rewrites the whole table and counts a repair")
    void refusedBatchRebuilds() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        expectApplyFails(1, "Error: Could not process rule: No such file or directory");
        FirewallState next = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH), Set.of(HOST));
        expectApply(fresh(next));
        firewall.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of(VPN)));
        assertThat(firewall.health().state()).isEqualTo(Health.DEGRADED);
        assertThat(firewall.health().repairs()).isEqualTo(1);
    }

    @Test
    @DisplayName("installed reads back through nft -j; a missing table reads as empty")
    void installedReadsBack() throws FirewallException {
        runner.expect(LIST_TABLE, s -> true, new Exits(new CommandResult(1, "", "Error: No such file or directory")));
        assertThat(firewall.installed("natpmp").forwards()).isEmpty();
        runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
        assertThat(firewall.installed("netmap").bindings()).containsExactly(HOST);
        runner.expect(Golden.read("list-queue-rules.json"), LIST_TABLE.toArray(String[]::new));
        assertThat(firewall.installed("netmap").queueRules()).hasSize(3);
    }

    @Test
    @DisplayName("watchdog: a flushed ruleset is noticed by the cheap check and the table rewritten")
    void watchdogRestoresAFlushedRuleset() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        runner.expect(Golden.read("list-chains-empty.json"), LIST_CHAINS.toArray(String[]::new));
        expectApply(fresh(S1));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.DEGRADED);
        assertThat(firewall.health().repairs()).isEqualTo(1);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("table is missing"));
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("watchdog: a deleted element is found by the full check; a clean round returns to OK")
    void watchdogRestoresADeletedElement() throws FirewallException {
        // the captured listing holds natpmp's state after change.nft and netmap's HOST binding
        FirewallState state = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH), Set.of(
                new HostBinding(ip("192.168.50.21"),
                        ip("198.18.0.6"))));
        expectApply(fresh(state));
        firewall.reconcile("natpmp", state);
        runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
        runner.expect(Golden.read("list-element-deleted.json"), LIST_TABLE.toArray(String[]::new));
        expectApply(fresh(state));
        firewall.watchOnce();
        assertThat(firewall.health().repairs()).isEqualTo(1);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("targets_natpmp"));
        runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
        runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("watchdog: the full listing runs without the lock; one older than our last transaction is not judged")
    void watchdogListingDoesNotHoldUpBatches() throws Exception {
        FirewallState state = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH), Set.of(
                new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"))));
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        java.util.concurrent.atomic.AtomicReference<NftablesFirewall> subject = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean batchRan = new java.util.concurrent.atomic.AtomicBoolean();
        natpmp.exec.ProcessRunner lister = new natpmp.exec.ProcessRunner() {
            @Override
            public CommandResult run(natpmp.exec.Command command) throws natpmp.exec.CommandException {
                CommandResult listing = runner.run(command); // shows the table without the batch below
                FirewallChange removeSsh = FirewallChange.forwards(Set.of(), Set.of(SSH));
                runner.expect(List.of("nft", "-f", "-"), x -> true, new Exits(new CommandResult(0, "", "")));
                try {
                    other.submit(() -> {
                        subject.get().apply("natpmp", removeSsh);
                        return null;
                    }).get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("the batch waited for the watchdog's listing", e);
                }
                batchRan.set(true);
                return listing;
            }

            @Override
            public boolean isExecutable(String program) {
                return true;
            }
        };
        NftablesFirewall fw = new NftablesFirewall(new NftProcessEngine(runner), new NftProcessEngine(lister),
                NftSettings.of("natpmp", 5000, 0), clock);
        try {
            expectApply(fresh(state));
            fw.reconcile("natpmp", state);
            subject.set(fw);
            runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
            runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
            fw.watchOnce();
            assertThat(batchRan).isTrue();
            assertThat(runner.pending()).as("no rewrite from a stale listing").isZero();
            assertThat(fw.health().repairs()).isZero();
            assertThat(fw.health().state()).isEqualTo(Health.OK);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    @DisplayName("watchdog: the full element comparison is rationed (every 10 s at least); the chain check runs every round")
    void watchdogRationsTheFullComparison() throws FirewallException {
        FirewallState state = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH), Set.of(
                new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"))));
        expectApply(fresh(state));
        firewall.reconcile("natpmp", state);
        runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
        runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
        firewall.watchOnce();
        for (int i = 0; i < 3; i++) { // within the next 10 s: chains only (the strict runner refuses anything else)
            now.set(now.get().plusSeconds(3));
            runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
            firewall.watchOnce();
        }
        now.set(now.get().plusSeconds(1));
        runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
        runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
        firewall.watchOnce();
        assertThat(runner.pending()).isZero();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
    }

    @Test
    @DisplayName("watchdog: a failing read marks FAILED, the next good read clears it")
    void watchdogReadFailure() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        runner.expect(LIST_CHAINS, s -> true, new Throws(true));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        runner.expect(Golden.read("list-chains.json"), LIST_CHAINS.toArray(String[]::new));
        runner.expect(Golden.read("list-two-owners.json"), LIST_TABLE.toArray(String[]::new));
        expectApply(fresh(S1)); // the listing does not hold S1, so it is restored
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.DEGRADED);
    }

    @Test
    @DisplayName("release removes only that owner; the last release and close delete the table")
    void releaseAndClose() throws FirewallException {
        expectApply(fresh(S1));
        firewall.reconcile("natpmp", S1);
        FirewallState netmap = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(HOST));
        expectApply(NftScript.replace("natpmp", false, List.of(new NftScript.Section(NETMAP, netmap)),
                Set.of("natpmp", "netmap")));
        firewall.reconcile("netmap", netmap);
        expectApply(NftScript.release("natpmp", NETMAP, Set.of("natpmp")));
        firewall.release("netmap");
        expectApply(NftScript.deleteTable("natpmp"));
        firewall.release("natpmp");
        expectApply(NftScript.deleteTable("natpmp"));
        firewall.close();
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("invalid owners and conflicting states are refused before any command runs")
    void refusesInvalidInput() {
        assertThatThrownBy(() -> firewall.reconcile("Bad Owner", S1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> firewall.reconcile("natpmp", new FirewallState(WITH_ADDRESS, Set.of(WEB,
                new PortForward(Protocol.TCP, 8080, ip("192.168.50.77"), 1)), Set.of()))).isInstanceOf(IllegalArgumentException.class);
        assertThat(runner.seen()).isEmpty();
    }

    /** Records what it was asked to run; the kernel is never touched. */
    private static final class RecordingEngine implements NftEngine {
        final List<String> scripts = new java.util.ArrayList<>();
        boolean closed;

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public void run(String script, java.time.Duration timeout) throws FirewallException {
            if (closed) {
                throw new FirewallException("closed");
            }
            scripts.add(script);
        }

        @Override
        public String list(List<String> words, java.time.Duration timeout) throws FirewallException {
            throw new FirewallException("not listed in this test");
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    @DisplayName("engine switch between transactions: the old engine is closed, the next batch goes to the new one;"
            + " close deletes the table through it and closes it once")
    void switchesEngineBetweenTransactions() throws FirewallException {
        RecordingEngine first = new RecordingEngine();
        RecordingEngine second = new RecordingEngine();
        NftablesFirewall fw = new NftablesFirewall(first, NftSettings.of("natpmp", 5000, 0), clock);
        fw.reconcile("natpmp", S1);
        fw.useEngine(second);
        assertThat(first.closed).isTrue();
        assertThat(fw.engineName()).isEqualTo("recording");
        fw.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of(VPN)));
        assertThat(first.scripts).containsExactly(fresh(S1));
        assertThat(second.scripts).containsExactly(NftScript.change("natpmp", NATPMP,
                Delta.of(Set.of(WEB, VPN), Set.of(HOST), FirewallChange.forwards(Set.of(SSH), Set.of(VPN)))));
        fw.close();
        fw.close();
        assertThat(second.scripts).hasSize(2).last().isEqualTo(NftScript.deleteTable("natpmp"));
        assertThat(second.closed).isTrue();
    }

    @Test
    @DisplayName("N27: a batch clashing with the installed state is refused before any command; a port freed in"
            + " the same batch may be reused")
    void n27_batchClashesAreRefusedBeforeAnyCommand() throws FirewallException {
        RecordingEngine engine = new RecordingEngine();
        NftablesFirewall fw = new NftablesFirewall(engine, NftSettings.of("natpmp", 5000, 0), clock);
        fw.reconcile("natpmp", S1);
        PortForward samePort = new PortForward(Protocol.TCP, 8080, ip("192.168.50.77"), 1);
        assertThatThrownBy(() -> fw.apply("natpmp", FirewallChange.forwards(Set.of(samePort), Set.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("two forwards use external port tcp 8080");
        assertThat(engine.scripts).hasSize(1);
        fw.apply("natpmp", FirewallChange.forwards(Set.of(samePort), Set.of(WEB)));
        assertThat(engine.scripts).hasSize(2);
        assertThatThrownBy(() -> fw.apply("natpmp", FirewallChange.forwards(Set.of(WEB), Set.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("two forwards use external port tcp 8080");
        assertThat(engine.scripts).hasSize(2);
    }
}
