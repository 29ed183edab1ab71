// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.exec;

import static natpmp.iptables.internal.core.Fixtures.HOST;
import static natpmp.iptables.internal.core.Fixtures.SSH;
import static natpmp.iptables.internal.core.Fixtures.VPN;
import static natpmp.iptables.internal.core.Fixtures.WEB;
import static natpmp.iptables.internal.core.Fixtures.WITH_ADDRESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.exec.Command;
import natpmp.exec.CommandResult;
import natpmp.exec.ProcessRunner;
import natpmp.exec.ScriptedProcessRunner;
import natpmp.exec.ScriptedProcessRunner.Exits;
import natpmp.exec.ScriptedProcessRunner.Throws;
import natpmp.iptables.internal.core.Delta;
import natpmp.iptables.internal.core.Fixtures;
import natpmp.iptables.internal.core.IptablesScript;
import natpmp.iptables.internal.core.IptablesSettings;
import natpmp.iptables.internal.core.JumpCounts;
import natpmp.iptables.internal.core.OwnerChains;
import natpmp.iptables.internal.core.Variant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The backend's edge against a strict fake runner: ordered argv and exact stdin. */
class IptablesFirewallTest {
    private static final List<String> NAT_SAVE = List.of("iptables-nft-save", "-t", "nat");
    private static final List<String> FILTER_SAVE = List.of("iptables-nft-save", "-t", "filter");
    private static final List<String> MANGLE_SAVE = List.of("iptables-nft-save", "-t", "mangle");
    private static final List<String> RESTORE = List.of("iptables-nft-restore", "--noflush", "--wait");
    private static final List<String> LIST_PRE = List.of("iptables-nft", "-t", "nat", "-S", "PREROUTING");
    private static final List<String> LIST_POST = List.of("iptables-nft", "-t", "nat", "-S", "POSTROUTING");
    private static final List<String> LIST_FWD = List.of("iptables-nft", "-t", "filter", "-S", "FORWARD");
    private static final List<String> LIST_QUE = List.of("iptables-nft", "-t", "mangle", "-S", "POSTROUTING");
    private static final OwnerChains NATPMP = OwnerChains.of("natpmp");
    private static final OwnerChains NETMAP = OwnerChains.of("netmap");
    private static final FirewallState S1 = new FirewallState(WITH_ADDRESS, Set.of(WEB, VPN), Set.of(HOST));
    private static final FirewallState S2 = new FirewallState(WITH_ADDRESS, Set.of(SSH), Set.of());

    private final ScriptedProcessRunner runner = new ScriptedProcessRunner(Set.of());
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    private final InstantSource clock = () -> now.get();
    private final IptablesFirewall firewall = new IptablesFirewall(runner, IptablesSettings.of(Variant.NFT, 5000, 0),
            clock);

    // --- scripted kernel

    private void expectSaves(Saves saves) {
        runner.expect(saves.nat(), NAT_SAVE.toArray(String[]::new));
        runner.expect(saves.filter(), FILTER_SAVE.toArray(String[]::new));
        runner.expect(saves.mangle(), MANGLE_SAVE.toArray(String[]::new));
    }

    /** What {@code iptables -S} of the four built-in chains prints for the tables in {@code saves}. */
    private void expectJumps(Saves saves) {
        expectJumps(runner, "iptables-nft", saves);
    }

    private static void expectJumps(ScriptedProcessRunner r, String command, Saves saves) {
        String[][] builtins = {{"nat", "PREROUTING", saves.nat()}, {"nat", "POSTROUTING", saves.nat()},
            {"filter", "FORWARD", saves.filter()}, {"mangle", "POSTROUTING", saves.mangle()}};
        for (String[] b : builtins) {
            StringBuilder out = new StringBuilder("-P " + b[1] + " ACCEPT\n");
            b[2].lines().filter(l -> l.startsWith("-A " + b[1] + " ")).forEach(l -> out.append(l).append('\n'));
            r.expect(out.toString(), command, "-t", b[0], "-S", b[1]);
        }
    }

    private void expectRestore(String script) {
        runner.expect(RESTORE, script::equals, new Exits(new CommandResult(0, "", "")));
    }

    private void expectRestoreFails(int status, String stderr) {
        runner.expect(RESTORE, s -> true, new Exits(new CommandResult(status, "", stderr)));
    }

    private void reconcileOk(OwnerChains chains, FirewallState state, Saves before) throws FirewallException {
        expectJumps(before);
        expectRestore(IptablesScript.reconcile(chains, state, JumpCounts.NONE));
        firewall.reconcile(chains.owner(), state);
    }

    // --- tests

    @Test
    @DisplayName("reconcile: reads the jumps once, then one iptables-restore --noflush --wait with the whole state")
    void reconcileIsOneRestore() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        assertThat(runner.pending()).isZero();
        assertThat(runner.seen()).extracting(Command::argv).containsExactly(LIST_PRE, LIST_POST, LIST_FWD,
                LIST_QUE, RESTORE);
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(firewall.name()).isEqualTo("iptables");
    }

    @Test
    @DisplayName("missing binary: FirewallException with argv, health FAILED, the previous state is still what we believe")
    void missingBinary() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        runner.expect(LIST_PRE, s -> true, new Throws(false));
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S2)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.command()).isEqualTo(LIST_PRE);
                    assertThat(e.exitStatus()).isEqualTo(FirewallException.NO_EXIT);
                    assertThat(e.getMessage()).contains("cannot run iptables-nft");
                });
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("cannot run"));

        // WEB is only in S1: removing it touches the kernel only if S1 is still what we believe is installed.
        FirewallChange removeWeb = FirewallChange.forwards(Set.of(), Set.of(WEB));
        expectRestore(IptablesScript.change(NATPMP, WITH_ADDRESS, false, S1.forwards(), Delta.of(S1.forwards(), S1.bindings(), removeWeb)));
        firewall.apply("natpmp", removeWeb);
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("non-zero exit: stderr is kept in the exception and in lastError; the next success is OK again")
    void nonZeroExitKeepsStderrAndRecovers() throws Exception {
        expectJumps(Saves.EMPTY);
        expectRestoreFails(2, "iptables-nft-restore: line 5 failed: No chain/target/match by that name.\n");
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S1)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.command()).isEqualTo(RESTORE);
                    assertThat(e.exitStatus()).isEqualTo(2);
                    assertThat(e.stderr()).contains("line 5 failed");
                    assertThat(e.getMessage()).contains("exited with status 2").contains("line 5 failed");
                });
        Instant failedAt = now.get();
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        assertThat(firewall.health().since()).isEqualTo(failedAt);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("line 5 failed"));

        now.set(failedAt.plusSeconds(7));
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(firewall.health().since()).isEqualTo(failedAt.plusSeconds(7));
    }

    @Test
    void timeoutIsAFailure() {
        expectJumps(Saves.EMPTY);
        runner.expect(RESTORE, s -> true, new Throws(true));
        assertThatThrownBy(() -> firewall.reconcile("natpmp", S1)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.getMessage()).contains("timed out");
                    assertThat(e.exitStatus()).isEqualTo(FirewallException.NO_EXIT);
                });
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
    }

    @Test
    @DisplayName("a batch of 100 forwards is one iptables-restore process")
    void batchIsOneProcess() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        Set<PortForward> hundred = Fixtures.many(100);
        FirewallChange change = FirewallChange.forwards(hundred, Set.of(WEB));
        expectRestore(IptablesScript.change(NATPMP, WITH_ADDRESS, false, S1.forwards(), Delta.of(S1.forwards(), S1.bindings(), change)));
        firewall.apply("natpmp", change);
        assertThat(runner.seen()).hasSize(6); // four jump listings and the reconcile's restore, then the batch
        // nothing to do: no process at all
        firewall.apply("natpmp", FirewallChange.forwards(Set.of(VPN), Set.of(WEB)));
        assertThat(runner.seen()).hasSize(6);
    }

    @Test
    @DisplayName("a batch the kernel refuses (rules deleted from outside) is replaced by a rebuild of the whole state")
    void refusedBatchRebuilds() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        FirewallChange change = FirewallChange.forwards(Set.of(SSH), Set.of(VPN));
        expectRestoreFails(1, "iptables-nft-restore: line 2 failed: Bad rule (does a matching rule exist in that chain?).");
        Saves flushed = Saves.of(NATPMP, FirewallState.empty(WITH_ADDRESS));
        expectJumps(flushed);
        FirewallState after = new FirewallState(WITH_ADDRESS, Set.of(WEB, SSH), Set.of(HOST));
        expectRestore(IptablesScript.reconcile(NATPMP, after, JumpCounts.ONCE));
        firewall.apply("natpmp", change);
        assertThat(firewall.health().state()).isEqualTo(Health.DEGRADED);
        assertThat(firewall.health().repairs()).isEqualTo(1);

        expectSaves(Saves.of(NATPMP, after));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(runner.pending()).isZero();
    }

    @Test
    void refusedBatchWhoseRebuildFailsKeepsThePreviousState() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        expectRestoreFails(1, "first failure");
        expectJumps(Saves.EMPTY);
        expectRestoreFails(1, "second failure");
        FirewallChange change = FirewallChange.forwards(Set.of(SSH), Set.of(VPN));
        assertThatThrownBy(() -> firewall.apply("natpmp", change)).isInstanceOfSatisfying(FirewallException.class,
                e -> {
                    assertThat(e.stderr()).isEqualTo("first failure");
                    assertThat(e.getSuppressed()).hasSize(1);
                });
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        // the watchdog still compares the kernel with S1 (5 + 5 + 3 rules), not with the failed batch
        expectSaves(Saves.of(NATPMP, S1));
        firewall.watchOnce();
        assertThat(runner.pending()).isZero();
        assertThat(firewall.health().state()).as("an operation failure is not cleared by a read").isEqualTo(Health.FAILED);
    }

    @Test
    void missingBinaryDuringABatchFailsWithoutRebuild() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        runner.expect(RESTORE, s -> true, new Throws(false));
        assertThatThrownBy(() -> firewall.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of())))
                .isInstanceOf(FirewallException.class);
        assertThat(runner.pending()).isZero();
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
    }

    @Test
    void applyBeforeReconcileIsRefusedWithoutTouchingTheKernel() {
        assertThatThrownBy(() -> firewall.apply("natpmp", FirewallChange.forwards(Set.of(WEB), Set.of())))
                .isInstanceOf(FirewallException.class).hasMessageContaining("reconcile it before apply");
        assertThat(runner.seen()).isEmpty();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
    }

    @Test
    @DisplayName("watchdog: chains flushed from outside are restored, counted as a repair, DEGRADED then OK")
    void watchdogRepairsAFlushedNatTable() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        // iptables -t nat -F: our nat chains and the PREROUTING/POSTROUTING jumps are empty, filter is intact
        Saves flushed = new Saves(Saves.EMPTY.nat().replace("COMMIT",
                ":" + NATPMP.pre() + " - [0:0]\n:" + NATPMP.post() + " - [0:0]\nCOMMIT"), Saves.of(NATPMP, S1).filter(),
                Saves.of(NATPMP, S1).mangle());
        expectSaves(flushed);
        expectRestore(IptablesScript.reconcile(NATPMP, S1, new JumpCounts(0, 0, 1, 1)));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.DEGRADED);
        assertThat(firewall.health().repairs()).isEqualTo(1);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m)
                .contains("nat chain NATPMP-NATPMP-PRE and its shards have 0 of 7 rules"));

        expectSaves(Saves.of(NATPMP, S1));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        assertThat(firewall.health().repairs()).isEqualTo(1);
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("watchdog: a batch goes through while the tables are dumped; a dump older than our last write is not judged")
    void watchdogReadsWithoutHoldingUpBatches() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        AtomicReference<IptablesFirewall> subject = new AtomicReference<>();
        AtomicReference<Future<?>> batch = new AtomicReference<>();
        ProcessRunner interposed = new ProcessRunner() {
            @Override
            public CommandResult run(Command command) throws natpmp.exec.CommandException {
                CommandResult result = runner.run(command);
                if (command.argv().equals(MANGLE_SAVE) && batch.get() == null && subject.get() != null) {
                    // the watchdog is dumping: a batch arrives meanwhile and must not wait for the dump
                    FirewallChange addSsh = FirewallChange.forwards(Set.of(SSH), Set.of());
                    expectRestore(IptablesScript.change(NATPMP, WITH_ADDRESS, false, S1.forwards(), Delta.of(S1.forwards(), S1.bindings(),
                            addSsh)));
                    Future<?> f = other.submit(() -> {
                        subject.get().apply("natpmp", addSsh);
                        return null;
                    });
                    batch.set(f);
                    try {
                        f.get(5, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError("the batch waited for the watchdog's dump", e);
                    }
                }
                return result;
            }

            @Override
            public boolean isExecutable(String program) {
                return runner.isExecutable(program);
            }
        };
        IptablesFirewall fw = new IptablesFirewall(interposed, IptablesSettings.of(Variant.NFT, 5000, 0), clock);
        try {
            expectJumps(Saves.EMPTY);
            expectRestore(IptablesScript.reconcile(NATPMP, S1, JumpCounts.NONE));
            fw.reconcile("natpmp", S1);
            subject.set(fw);
            // the dump shows the state before the batch (SSH missing): judged, it would look like an outside change
            expectSaves(Saves.of(NATPMP, S1));
            fw.watchOnce();
            assertThat(batch.get()).isNotNull();
            assertThat(batch.get().isDone()).isTrue();
            assertThat(runner.pending()).as("no repair from a stale dump").isZero();
            assertThat(fw.health().state()).isEqualTo(Health.OK);
            assertThat(fw.health().repairs()).isZero();
        } finally {
            other.shutdownNow();
        }
    }

    private void expectBuiltins(OwnerChains chains, boolean jumpsThere) {
        String[][] builtins = {{"nat", "PREROUTING", chains.pre()}, {"nat", "POSTROUTING", chains.post()},
            {"filter", "FORWARD", chains.fwd()}, {"mangle", "POSTROUTING", chains.que()}};
        for (String[] b : builtins) {
            runner.expect("-P " + b[1] + " ACCEPT\n" + (jumpsThere ? "-A " + b[1] + " -j " + b[2] + "\n" : ""),
                    "iptables-nft", "-t", b[0], "-S", b[1]);
        }
    }

    @Test
    @DisplayName("watchdog: between full comparisons (at least 10 s apart) a round lists only the built-in chains;"
            + " jumps gone (a reload) bring the full comparison and the repair at once")
    void watchdogRationsTheFullComparison() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        expectSaves(Saves.of(NATPMP, S1));
        firewall.watchOnce(); // the first round compares everything
        for (int i = 0; i < 3; i++) {
            now.set(now.get().plusSeconds(3));
            expectBuiltins(NATPMP, true);
            firewall.watchOnce();
        }
        assertThat(runner.pending()).isZero();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
        // iptables -t nat -F: PREROUTING lost the jump; the round goes on to the full comparison and repairs
        now.set(now.get().plusMillis(500)); // 9.5 s after the first round: not due by time
        runner.expect("-P PREROUTING ACCEPT\n", "iptables-nft", "-t", "nat", "-S", "PREROUTING");
        runner.expect("-P POSTROUTING ACCEPT\n", "iptables-nft", "-t", "nat", "-S", "POSTROUTING");
        runner.expect("-P FORWARD ACCEPT\n-A FORWARD -j " + NATPMP.fwd() + "\n", "iptables-nft", "-t", "filter", "-S",
                "FORWARD");
        runner.expect("-P POSTROUTING ACCEPT\n-A POSTROUTING -j " + NATPMP.que() + "\n", "iptables-nft", "-t",
                "mangle", "-S", "POSTROUTING");
        Saves flushed = new Saves(Saves.EMPTY.nat().replace("COMMIT",
                ":" + NATPMP.pre() + " - [0:0]\n:" + NATPMP.post() + " - [0:0]\nCOMMIT"), Saves.of(NATPMP, S1).filter(),
                Saves.of(NATPMP, S1).mangle());
        expectSaves(flushed);
        expectRestore(IptablesScript.reconcile(NATPMP, S1, new JumpCounts(0, 0, 1, 1)));
        firewall.watchOnce();
        assertThat(firewall.health().repairs()).isEqualTo(1);
        assertThat(runner.pending()).isZero();
    }

    @Test
    void watchdogReadFailureIsFailedUntilTheNextGoodRead() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        runner.expect(NAT_SAVE, s -> true, new Exits(new CommandResult(4, "", "iptables-nft-save: lock busy")));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.FAILED);
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m).contains("lock busy"));
        expectSaves(Saves.of(NATPMP, S1));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);
    }

    @Test
    void installedReadsBothTablesAndParses() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        expectSaves(Saves.of(NATPMP, S1));
        assertThat(firewall.installed("natpmp")).isEqualTo(S1);
    }

    @Test
    @DisplayName("release: chains emptied first (a small read for the -D that follows), then jumps and chains deleted")
    void releaseDeletesTheJumpsThatExistAndForgetsTheOwner() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        expectRestore(IptablesScript.flush(List.of(NATPMP)));
        expectJumps(Saves.of(NATPMP, S1));
        expectRestore(IptablesScript.release(List.of(new IptablesScript.Release(NATPMP, JumpCounts.ONCE))));
        firewall.release("natpmp");
        assertThatThrownBy(() -> firewall.apply("natpmp", FirewallChange.forwards(Set.of(SSH), Set.of())))
                .isInstanceOf(FirewallException.class);
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("shards: a shard emptied by a removal keeps its chain and jump, so refilling it adds no second jump;"
            + " the watchdog counts that jump")
    void emptiedShardIsReusedWithoutASecondJump() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY); // WEB is alone in shard 16 (8080 mod 64)
        runner.expect(RESTORE, s -> true, new Exits(new CommandResult(0, "", "")));
        firewall.apply("natpmp", FirewallChange.forwards(Set.of(), Set.of(WEB)));
        assertThat(runner.seen().get(runner.seen().size() - 1).stdin()).contains(":NATPMP-NATPMP-PRE-16 - [0:0]\n")
                .doesNotContain("-X ");
        PortForward again = new PortForward(Protocol.TCP, 8336, Fixtures.ip("192.168.50.14"), 8336); // shard 16
        runner.expect(RESTORE, s -> true, new Exits(new CommandResult(0, "", "")));
        firewall.apply("natpmp", FirewallChange.forwards(Set.of(again), Set.of()));
        assertThat(runner.seen().get(runner.seen().size() - 1).stdin())
                .contains("-A NATPMP-NATPMP-PRE-16 -i wan0 -p tcp -m tcp --dport 8336")
                .doesNotContain("-j NATPMP-NATPMP-PRE-16");
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("close: one release script for every owner")
    void closeReleasesEveryOwner() throws Exception {
        reconcileOk(NATPMP, S1, Saves.EMPTY);
        reconcileOk(NETMAP, S2, Saves.of(NATPMP, S1));
        Saves both = Saves.of(NATPMP, S1).plus(Saves.of(NETMAP, S2));
        expectRestore(IptablesScript.flush(List.of(NATPMP, NETMAP)));
        expectJumps(both);
        expectRestore(IptablesScript.release(List.of(new IptablesScript.Release(NATPMP, JumpCounts.ONCE),
                new IptablesScript.Release(NETMAP, JumpCounts.ONCE))));
        firewall.close();
        assertThat(runner.pending()).isZero();
        firewall.close(); // idempotent: nothing left to release
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("queue rules: reconcile renders them, apply keeps the RETURN rules in step with the bindings, and"
            + " the watchdog counts the mangle chain")
    void queueRulesFollowBindings() throws Exception {
        FirewallState queued = Fixtures.netmapWithQueue(WITH_ADDRESS);
        reconcileOk(NETMAP, queued, Saves.EMPTY);
        assertThat(runner.seen().get(4).stdin()).contains("-A NATPMP-NETMAP-QUE -s 192.168.50.0/24 -j NFQUEUE"
                + " --queue-num 4660\n");

        HostBinding third = new HostBinding(Fixtures.ip("192.168.50.22"), Fixtures.ip("198.18.0.7"));
        FirewallChange change = new FirewallChange(Set.of(), Set.of(), Set.of(third), Set.of(HOST));
        expectRestore(IptablesScript.change(NETMAP, WITH_ADDRESS, true, Set.of(),
                Delta.of(Set.of(), queued.bindings(), change)));
        firewall.apply("netmap", change);
        assertThat(runner.seen().get(5).stdin()).contains("-I NATPMP-NETMAP-QUE 3 -s 192.168.50.22/32 -j RETURN\n")
                .contains("-D NATPMP-NETMAP-QUE -s 192.168.50.20/32 -j RETURN\n");

        FirewallState after = new FirewallState(WITH_ADDRESS, Set.of(), Set.of(Fixtures.SECOND, third),
                queued.queueRules());
        expectSaves(Saves.of(NETMAP, after));
        firewall.watchOnce();
        assertThat(firewall.health().state()).isEqualTo(Health.OK);

        // the queue chain emptied from outside (iptables -t mangle -F NATPMP-NETMAP-QUE): restored
        Saves emptied = Saves.of(NETMAP, after);
        emptied = new Saves(emptied.nat(), emptied.filter(),
                emptied.mangle().lines().filter(l -> !l.startsWith("-A NATPMP-NETMAP-QUE"))
                        .reduce("", (a, b) -> a + b + "\n"));
        expectSaves(emptied);
        expectRestore(IptablesScript.reconcile(NETMAP, after, JumpCounts.ONCE));
        now.set(now.get().plusSeconds(60)); // the next full comparison is due
        firewall.watchOnce();
        assertThat(firewall.health().lastError()).hasValueSatisfying(m -> assertThat(m)
                .contains("mangle chain NATPMP-NETMAP-QUE has 0 of 6 rules"));
        assertThat(runner.pending()).isZero();
    }

    @Test
    @DisplayName("variant AUTO asks iptables -V once and uses the legacy tools it names")
    void autoDetectsLegacy() throws Exception {
        ScriptedProcessRunner legacy = new ScriptedProcessRunner(Set.of("iptables-legacy-restore",
                "iptables-legacy-save"));
        IptablesFirewall auto = new IptablesFirewall(legacy, IptablesSettings.of(Variant.AUTO, 5000, 0), clock);
        legacy.expect("iptables v1.8.9 (legacy)\n", "iptables", "-V");
        for (int i = 0; i < 2; i++) {
            expectJumps(legacy, "iptables-legacy", Saves.EMPTY);
            legacy.expect(List.of("iptables-legacy-restore", "--noflush", "--wait"), s -> true,
                    new Exits(new CommandResult(0, "", "")));
            auto.reconcile("natpmp", S1);
        }
        assertThat(legacy.pending()).isZero();
    }

    @Test
    void autoWithoutIptablesFallsBackToThePlainToolsAndAsksAgainLater() throws Exception {
        ScriptedProcessRunner none = new ScriptedProcessRunner(Set.of());
        IptablesFirewall auto = new IptablesFirewall(none, IptablesSettings.of(Variant.AUTO, 5000, 0), clock);
        none.expect(List.of("iptables", "-V"), s -> true, new Throws(false));
        none.expect(List.of("iptables", "-t", "nat", "-S", "PREROUTING"), s -> true, new Throws(false));
        assertThatThrownBy(() -> auto.reconcile("natpmp", S1)).isInstanceOf(FirewallException.class);
        none.expect(List.of("iptables", "-V"), s -> true, new Throws(false));
        none.expect(List.of("iptables", "-t", "nat", "-S", "PREROUTING"), s -> true, new Throws(false));
        assertThatThrownBy(() -> auto.reconcile("natpmp", S1)).isInstanceOf(FirewallException.class);
        assertThat(none.pending()).isZero();
        assertThat(auto.health().state()).isEqualTo(Health.FAILED);
    }

    @Test
    @DisplayName("thread safety: concurrent batches never run two iptables processes at once and all land")
    void concurrentBatchesAreSerialised() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        AtomicInteger restores = new AtomicInteger();
        ProcessRunner slow = new ProcessRunner() {
            @Override
            public CommandResult run(Command command) {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                    if (command.argv().get(0).endsWith("-restore")) {
                        restores.incrementAndGet();
                    }
                    String table = command.argv().get(command.argv().size() - 1);
                    return new CommandResult(0, table.equals("nat") ? Saves.EMPTY.nat()
                            : table.equals("mangle") ? Saves.EMPTY.mangle() : Saves.EMPTY.filter(), "");
                } finally {
                    running.decrementAndGet();
                }
            }

            @Override
            public boolean isExecutable(String program) {
                return true;
            }
        };
        IptablesFirewall shared = new IptablesFirewall(slow, IptablesSettings.of(Variant.NFT, 5000, 0), clock);
        shared.reconcile("natpmp", FirewallState.empty(WITH_ADDRESS));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            PortForward f = new PortForward(Protocol.UDP, 20_000 + i, Fixtures.ip("192.168.50.9"), 20_000 + i);
            done.add(pool.submit(() -> {
                shared.apply("natpmp", FirewallChange.forwards(Set.of(f), Set.of()));
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(maxRunning.get()).isEqualTo(1);
        assertThat(restores.get()).isEqualTo(161);
        assertThat(shared.health().state()).isEqualTo(Health.OK);
    }

    /** iptables-save outputs of the nat, the filter and the mangle table. */
    record Saves(String nat, String filter, String mangle) {
        static final Saves EMPTY = new Saves(
                "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
                "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
                "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                        + ":POSTROUTING ACCEPT [0:0]\nCOMMIT\n");

        /** What iptables-save prints after a fresh reconcile of {@code state} (jumps become -A lines). */
        static Saves of(OwnerChains chains, FirewallState state) {
            String script = IptablesScript.reconcile(chains, state, JumpCounts.NONE)
                    .replaceAll("-I (PREROUTING|POSTROUTING|FORWARD) 1 ", "-A $1 ");
            int filter = script.indexOf("*filter");
            int mangle = script.indexOf("*mangle");
            return new Saves(script.substring(0, filter), script.substring(filter, mangle), script.substring(mangle));
        }

        Saves plus(Saves other) {
            return new Saves(nat + other.nat, filter + other.filter, mangle + other.mangle);
        }
    }
}
