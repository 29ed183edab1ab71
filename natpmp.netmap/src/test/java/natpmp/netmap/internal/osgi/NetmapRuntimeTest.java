// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.HostBinding;
import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;
import natpmp.netmap.internal.core.ConntrackEvent;
import natpmp.netmap.internal.core.Ipv4;
import natpmp.netmap.internal.core.NetmapRule;
import natpmp.netmap.internal.net.FlowQueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

class NetmapRuntimeTest {
    private static final int PEER = Ipv4.parse("203.0.113.2");
    private final AtomicLong mono = new AtomicLong(5_000_000);
    private final AtomicLong wall = new AtomicLong(1_700_000_000_000L);
    private final List<NetmapRuntime> started = new ArrayList<>();
    private long verdictTimeout = 60_000;
    @TempDir
    Path dir;

    private NetmapRuntime runtime(Optional<Path> file) {
        NetmapRuntime r = new NetmapRuntime(ManagerSettings.of(600, true, true, false, "wan0"),
                file.map(natpmp.netmap.internal.net.BindingStore::new),
                new NetmapRuntime.Params(mono::get, wall::get, 0, 3_600_000, verdictTimeout));
        started.add(r);
        return r;
    }

    @AfterEach
    void stop() {
        started.forEach(NetmapRuntime::close);
    }

    private static Inet4Address a(String s) {
        return Ipv4.toAddress(Ipv4.parse(s));
    }

    private static HostBinding hb(String pre, String post) {
        return new HostBinding(a(pre), a(post));
    }

    private static NetmapRule rule(String name, int rank, String subnet, String prefix) {
        return RuleSettings.parse(name, rank, subnet, prefix, "both", "", false, true, false);
    }

    @Test
    void bindingsGoToTheBackendAsReconcileThenBatches() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("r1", rule("r1", 1, "192.168.0.0/24", "20.0.0.0/30"));
        assertThat(r.snat(a("192.168.0.10"))).contains(a("20.0.0.0"));
        FakeBackend backend = new FakeBackend();

        r.backendBound(backend);
        FakeBackend.Call first = backend.next();
        assertThat(first.verb()).isEqualTo("reconcile");
        assertThat(first.owner()).isEqualTo("netmap");
        assertThat(first.bindings()).containsExactly(hb("192.168.0.10", "20.0.0.0"));
        assertThat(first.topology().orElseThrow().externalInterface()).isEqualTo("wan0");

        r.snat(a("192.168.0.11"));
        FakeBackend.Call second = backend.next();
        assertThat(second.verb()).isEqualTo("apply");
        assertThat(second.add()).containsExactly(hb("192.168.0.11", "20.0.0.1"));

        assertThat(r.remove(a("20.0.0.0"))).isTrue();
        FakeBackend.Call third = backend.next();
        assertThat(third.remove()).containsExactly(hb("192.168.0.10", "20.0.0.0"));
        assertThat(backend.installed()).containsExactly(hb("192.168.0.11", "20.0.0.1"));
        assertThat(r.dnat(a("20.0.0.1"))).contains(a("192.168.0.11"));
    }

    @Test
    void d2_rulesChangeLiveAndPoolsThatStayKeepTheirBindings() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.ruleAdded("b", rule("b", 2, "192.168.1.0/24", "30.0.0.0/30"));
        r.snat(a("192.168.0.1"));
        r.snat(a("192.168.1.1"));

        r.ruleRemoved("b");

        assertThat(r.pools()).containsExactly("20.0.0.0/30");
        assertThat(r.bindings()).extracting(NetmapBinding::prenat).containsExactly(a("192.168.0.1"));
        FakeBackend.Call c;
        do {
            c = backend.next();
        } while (!c.bindings().equals(Set.of(hb("192.168.0.1", "20.0.0.0"))));
    }

    private static void awaitPools(NetmapRuntime r, int count) throws InterruptedException {
        for (int i = 0; i < 1000 && r.pools().size() < count; i++) {
            Thread.sleep(10); // waits for the loop, asserts nothing about time
        }
        assertThat(r.pools()).hasSize(count);
    }

    @Test
    void d2_aRuleDeletedAndCreatedAgainAtOnceKeepsItsPoolsBindings() throws Exception {
        NetmapRuntime r = new NetmapRuntime(ManagerSettings.of(600, true, true, false, "wan0"), Optional.empty(),
                new NetmapRuntime.Params(mono::get, wall::get, 0, 3_600_000, 2000, n -> {
                    throw new IllegalStateException();
                }, 300));
        started.add(r);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        awaitPools(r, 1); // the settle timer applies the first rule
        r.snat(a("192.168.0.1"));

        // a configuration file rewritten: the rule service goes away and comes back
        r.ruleRemoved("a");
        r.ruleAdded("a2", rule("a2", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.ruleAdded("b", rule("b", 2, "192.168.1.0/24", "30.0.0.0/30"));
        awaitPools(r, 2);

        assertThat(r.bindings()).extracting(NetmapBinding::prenat).containsExactly(a("192.168.0.1"));
    }

    @Test
    void d12_overlappingRuleIsRefusedAndTheOthersStay() {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/24"));
        r.ruleAdded("b", rule("b", 2, "192.168.1.0/24", "20.0.0.128/25"));

        assertThat(r.pools()).containsExactly("20.0.0.0/24");
    }

    @Test
    void d19_administrationAndProcTextsThroughTheService() {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));

        NetmapBinding b = r.addStatic(a("10.0.0.1"), a("20.0.0.2"));

        assertThat(b.staticBinding()).isTrue();
        assertThat(r.procTable("20.0.0.0_30").orElseThrow()).contains("10.0.0.1 -> 20.0.0.2 --- ttl: S lasthit: S\n");
        assertThat(r.procStat("20.0.0.0/30")).contains("0 1 4 0 \n");
        assertThat(r.stats()).containsExactly(new NetmapPoolStats("20.0.0.0/30", 0, 1, 4, 0));
        assertThatThrownBy(() -> r.addStatic(a("20.0.0.1"), a("20.0.0.2")))
                .hasMessage("prenat ip can't belong to postnat prefix: 20.0.0.1");
        assertThat(r.flush("20.0.0.0/30")).isEqualTo(1);
        assertThatThrownBy(() -> r.flush("21.0.0.0/30")).hasMessageStartingWith("no pool 21.0.0.0/30");
        assertThat(r.procTable("nonsense")).isEmpty();
    }

    @Test
    void bindingsSurviveARestartAndKeepTheirAddresses() throws Exception {
        Path file = dir.resolve("netmap-bindings.txt");
        NetmapRuntime first = runtime(Optional.of(file));
        first.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/29"));
        first.snat(a("192.168.0.10"));
        first.snat(a("192.168.0.11"));
        first.addStatic(a("10.0.0.1"), a("20.0.0.7"));
        first.remove(a("192.168.0.10"));
        first.snat(a("192.168.0.12"));
        List<NetmapBinding> before = first.bindings();
        first.close();
        assertThat(Files.readString(file)).startsWith("natpmp.netmap.bindings 1 ");

        mono.set(100); // a new boot: the monotonic clock starts over
        wall.addAndGet(60_000);
        NetmapRuntime second = runtime(Optional.of(file));
        FakeBackend backend = new FakeBackend();
        second.backendBound(backend);
        second.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/29"));

        List<NetmapBinding> after = second.bindings();
        assertThat(after).extracting(NetmapBinding::prenat, NetmapBinding::postnat, NetmapBinding::staticBinding)
                .containsExactlyElementsOf(before.stream()
                        .map(x -> org.assertj.core.groups.Tuple.tuple(x.prenat(), x.postnat(), x.staticBinding()))
                        .toList());
        assertThat(after.get(0).ttlSeconds()).isEqualTo(540); // 600 s minus the minute that passed
        assertThat(second.snat(a("192.168.0.11"))).contains(a("20.0.0.1"));
        FakeBackend.Call c;
        do {
            c = backend.next();
        } while (c.bindings().size() != 3);
        assertThat(c.bindings()).contains(hb("10.0.0.1", "20.0.0.7"), hb("192.168.0.11", "20.0.0.1"));
    }

    @Test
    void failedBackendCallIsRetriedAsAFullReconcile() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.snat(a("192.168.0.1"));
        FakeBackend backend = new FakeBackend();
        backend.failures.set(1);

        r.backendBound(backend);

        assertThat(backend.next().verb()).isEqualTo("reconcile-failed");
        FakeBackend.Call retry = backend.next();
        assertThat(retry.verb()).isEqualTo("reconcile");
        assertThat(retry.bindings()).containsExactly(hb("192.168.0.1", "20.0.0.0"));
    }

    @Test
    void aReplacedBackendIsReleasedAfterTheNewOneHoldsEverything() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.snat(a("192.168.0.1"));
        FakeBackend oldOne = new FakeBackend();
        r.backendBound(oldOne);
        assertThat(oldOne.next().verb()).isEqualTo("reconcile");
        FakeBackend newOne = new FakeBackend();

        r.backendBound(newOne);
        r.backendUnbound(oldOne);

        assertThat(newOne.next().bindings()).containsExactly(hb("192.168.0.1", "20.0.0.0"));
        assertThat(oldOne.next().verb()).isEqualTo("release");
    }

    /** Records verdicts together with what the backend held at that moment. */
    private static final class FakeQueue implements FlowQueue {
        record Given(long packetId, Verdict verdict, Set<HostBinding> installedThen) {
        }

        final BlockingQueue<Given> verdicts = new LinkedBlockingQueue<>();
        private final FakeBackend backend;

        FakeQueue(FakeBackend backend) {
            this.backend = backend;
        }

        Given next() throws InterruptedException {
            Given g = verdicts.poll(10, TimeUnit.SECONDS);
            if (g == null) {
                throw new AssertionError("no verdict within 10 s");
            }
            return g;
        }

        @Override
        public void start(Handler handler) {
        }

        @Override
        public void verdict(long packetId, Verdict verdict) {
            verdicts.add(new Given(packetId, verdict, backend.installed()));
        }

        @Override
        public void close() {
        }
    }

    @Test
    void d4_queuedFirstPacketIsAcceptedOnlyOnceItsBindingIsInTheKernel() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        backend.next(); // the initial reconcile
        FakeQueue queue = new FakeQueue(backend);

        r.queued(queue, 7, Ipv4.parse("192.168.0.10"), PEER);

        FakeQueue.Given g = queue.next();
        assertThat(g.packetId()).isEqualTo(7);
        assertThat(g.verdict()).isEqualTo(FlowQueue.Verdict.ACCEPT);
        assertThat(g.installedThen()).containsExactly(hb("192.168.0.10", "20.0.0.0"));
        // a second queued packet of the now installed host is accepted at once
        r.queued(queue, 8, Ipv4.parse("192.168.0.10"), PEER);
        assertThat(queue.next().installedThen()).containsExactly(hb("192.168.0.10", "20.0.0.0"));
    }

    @Test
    void d4_queuedPacketOfAFullPoolOrForeignHostContinuesAtOnce() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/32"));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        backend.next();
        r.snat(a("192.168.0.1"));
        FakeQueue queue = new FakeQueue(backend);

        r.queued(queue, 1, Ipv4.parse("192.168.0.2"), PEER); // pool full
        r.queued(queue, 2, Ipv4.parse("10.9.9.9"), PEER);    // in no rule

        assertThat(List.of(queue.next(), queue.next())).extracting(FakeQueue.Given::packetId, FakeQueue.Given::verdict)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, FlowQueue.Verdict.ACCEPT),
                        org.assertj.core.groups.Tuple.tuple(2L, FlowQueue.Verdict.ACCEPT));
    }

    @Test
    void d4_queuedPacketWaitsThroughAFailedJobAndIsDroppedWhenTheKernelNeverGetsIt() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        backend.next();
        FakeQueue queue = new FakeQueue(backend);
        backend.failures.set(1);

        r.queued(queue, 1, Ipv4.parse("192.168.0.1"), PEER);

        assertThat(backend.next().verb()).isEqualTo("apply-failed");
        FakeQueue.Given g = queue.next(); // after the retried reconcile
        assertThat(g.verdict()).isEqualTo(FlowQueue.Verdict.ACCEPT);
        assertThat(g.installedThen()).containsExactly(hb("192.168.0.1", "20.0.0.0"));

        verdictTimeout = 1;
        NetmapRuntime broken = runtime(Optional.empty());
        broken.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        FakeBackend failing = new FakeBackend();
        failing.failures.set(Integer.MAX_VALUE);
        broken.backendBound(failing);
        FakeQueue q2 = new FakeQueue(failing);
        broken.queued(q2, 9, Ipv4.parse("192.168.0.1"), PEER);
        assertThat(q2.next().verdict()).isEqualTo(FlowQueue.Verdict.DROP);
    }

    @Test
    void d8_withoutDnatOfExpiredBindingsTheyLeaveTheKernelAndComeBackOnTheNextQueuedPacket() throws Exception {
        NetmapRuntime r = new NetmapRuntime(ManagerSettings.of(600, true, false, false, "wan0"), Optional.empty(),
                new NetmapRuntime.Params(mono::get, wall::get, 0, 3_600_000, 60_000));
        started.add(r);
        r.ruleAdded("a", RuleSettings.parse("a", 1, "192.168.0.0/24", "20.0.0.0/30", "both", "10", false, true,
                false));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        backend.next();
        FakeQueue queue = new FakeQueue(backend);
        r.queued(queue, 1, Ipv4.parse("192.168.0.1"), PEER);
        assertThat(queue.next().installedThen()).containsExactly(hb("192.168.0.1", "20.0.0.0"));
        assertThat(backend.next().add()).containsExactly(hb("192.168.0.1", "20.0.0.0"));

        mono.addAndGet(11_000);
        r.sweepNow();
        FakeBackend.Call removal = backend.next();
        assertThat(removal.remove()).containsExactly(hb("192.168.0.1", "20.0.0.0"));
        assertThat(r.dnat(a("20.0.0.0"))).isEmpty();
        assertThat(r.bindings()).hasSize(1); // still kept by the engine (D8)

        r.queued(queue, 2, Ipv4.parse("192.168.0.1"), PEER);
        FakeQueue.Given again = queue.next();
        assertThat(again.verdict()).isEqualTo(FlowQueue.Verdict.ACCEPT);
        assertThat(again.installedThen()).containsExactly(hb("192.168.0.1", "20.0.0.0")); // same address (D5)
    }

    /** A queue the runtime opens itself (Params.queues), recording verdicts and its closing. */
    private static final class OpenedQueue implements FlowQueue {
        final BlockingQueue<Long> accepted = new LinkedBlockingQueue<>();
        final FakeBackend backend;
        final java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        volatile Handler handler;

        OpenedQueue(FakeBackend backend) {
            this.backend = backend;
        }

        /** The runtime opens its queue on its loop: wait for that (bounded) before delivering packets. */
        Handler handler() throws InterruptedException {
            assertThat(started.await(10, TimeUnit.SECONDS)).as("queue started").isTrue();
            return handler;
        }

        @Override
        public void start(Handler h) {
            handler = h;
            started.countDown();
        }

        @Override
        public void verdict(long packetId, Verdict verdict) {
            if (verdict == Verdict.ACCEPT) {
                accepted.add(packetId);
            }
        }

        @Override
        public void close() {
            backend.events.add("queue closed");
        }
    }

    private NetmapRuntime queuedRuntime(OpenedQueue queue, long batchMillis, boolean openFails) {
        NetmapRuntime r = new NetmapRuntime(ManagerSettings.of(600, true, true, false, "wan0", false,
                natpmp.netmap.internal.exec.ConntrackMonitor.DEFAULT_COMMAND, false, java.util.OptionalInt.of(4660)),
                Optional.empty(), new NetmapRuntime.Params(mono::get, wall::get, batchMillis, 3_600_000, 60_000, n -> {
                    if (openFails) {
                        throw new IllegalStateException("cannot bind queue " + n + ": Operation not permitted");
                    }
                    return queue;
                }, 0));
        started.add(r);
        return r;
    }

    private static natpmp.api.QueueRule q(String cidr) {
        String[] p = cidr.split("/");
        return new natpmp.api.QueueRule(a(p[0]), Integer.parseInt(p[1]), 4660);
    }

    private static FakeBackend.Call reconcileWith(FakeBackend backend, Set<natpmp.api.QueueRule> rules)
            throws InterruptedException {
        FakeBackend.Call c;
        do {
            c = backend.next();
        } while (!(c.verb().equals("reconcile") && c.queueRules().equals(rules)));
        return c;
    }

    @Test
    void queueRulesFollowTheOpenQueueAndTheSnatRuleSubnets() throws Exception {
        FakeBackend backend = new FakeBackend();
        OpenedQueue queue = new OpenedQueue(backend);
        NetmapRuntime r = queuedRuntime(queue, 0, false);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        // inside a's subnet: no queue rule of its own
        r.ruleAdded("b", rule("b", 2, "192.168.0.128/25", "30.0.0.0/30"));
        r.ruleAdded("c", RuleSettings.parse("c", 3, "10.1.0.0/16", "40.0.0.0/30", "snat", "", false, true, false));
        // a DNAT-only rule holds no first packets
        r.ruleAdded("d", RuleSettings.parse("d", 4, "10.2.0.0/16", "", "dnat", "", false, true, false));
        r.backendBound(backend);
        reconcileWith(backend, Set.of(q("192.168.0.0/24"), q("10.1.0.0/16")));

        // a rule for every source replaces them all with one
        r.ruleAdded("e", rule("e", 5, "", "50.0.0.0/30"));
        reconcileWith(backend, Set.of(q("0.0.0.0/0")));
        r.ruleRemoved("e");
        reconcileWith(backend, Set.of(q("192.168.0.0/24"), q("10.1.0.0/16")));

        // the first packet, delivered through the queue the runtime opened, is accepted once its binding is in
        queue.handler().queued(41, Ipv4.parse("10.1.2.3"), Ipv4.parse("203.0.113.2"));
        assertThat(queue.accepted.poll(10, TimeUnit.SECONDS)).isEqualTo(41);
        assertThat(backend.installed()).contains(hb("10.1.2.3", "40.0.0.0"));
    }

    @Test
    void aQueueThatCannotOpenMeansNoQueueRules() throws Exception {
        FakeBackend backend = new FakeBackend();
        NetmapRuntime r = queuedRuntime(new OpenedQueue(backend), 0, true);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.backendBound(backend);
        r.snat(a("192.168.0.5"));
        FakeBackend.Call c;
        do {
            c = backend.next();
            assertThat(c.queueRules()).as("nobody reads the queue: no rule may send packets there").isEmpty();
        } while (!backend.installed().contains(hb("192.168.0.5", "20.0.0.0")));
    }

    @Test
    void aBackendRefusingQueueRulesStillGetsTheBindings() throws Exception {
        FakeBackend backend = new FakeBackend();
        backend.refuseQueueRules = true;
        NetmapRuntime r = queuedRuntime(new OpenedQueue(backend), 0, false);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.snat(a("192.168.0.5"));
        r.backendBound(backend);
        FakeBackend.Call refused = backend.next();
        assertThat(refused.verb()).isEqualTo("reconcile-refused");
        assertThat(refused.queueRules()).containsExactly(q("192.168.0.0/24"));
        FakeBackend.Call without = backend.next();
        assertThat(without.verb()).isEqualTo("reconcile");
        assertThat(without.queueRules()).isEmpty();
        assertThat(without.bindings()).containsExactly(hb("192.168.0.5", "20.0.0.0"));
        // later bindings go out as batches; the queue rules are not tried again before the retry time
        r.snat(a("192.168.0.6"));
        FakeBackend.Call next = backend.next();
        assertThat(next.verb()).isEqualTo("apply");
        assertThat(next.add()).containsExactly(hb("192.168.0.6", "20.0.0.1"));
    }

    @Test
    void d4_aHeldPacketDoesNotWaitForTheBatchDelay() throws Exception {
        FakeBackend backend = new FakeBackend();
        OpenedQueue queue = new OpenedQueue(backend);
        NetmapRuntime r = queuedRuntime(queue, 3_600_000, false); // batches would wait an hour
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.backendBound(backend);
        // the first reconcile waits for the batch delay; the held packet starts it at once
        queue.handler().queued(5, Ipv4.parse("192.168.0.9"), Ipv4.parse("203.0.113.2"));
        assertThat(queue.accepted.poll(10, TimeUnit.SECONDS)).isEqualTo(5);
        assertThat(backend.installed()).containsExactly(hb("192.168.0.9", "20.0.0.0"));
        assertThat(backend.installedQueueRules()).containsExactly(q("192.168.0.0/24"));
    }

    @Test
    void shutdownReleasesTheRulesBeforeTheQueueCloses() throws Exception {
        FakeBackend backend = new FakeBackend();
        NetmapRuntime r = queuedRuntime(new OpenedQueue(backend), 0, false);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        r.backendBound(backend);
        reconcileWith(backend, Set.of(q("192.168.0.0/24")));
        r.close();
        // closed first, the queue would make the kernel drop new flows of unbound hosts until the release
        assertThat(backend.events).containsExactly("release", "queue closed");
    }

    @Test
    void d8_turningDnatOfExpiredBindingsBackOnReinstallsThem() throws Exception {
        NetmapRuntime r = new NetmapRuntime(ManagerSettings.of(600, true, false, false, "wan0"), Optional.empty(),
                new NetmapRuntime.Params(mono::get, wall::get, 0, 3_600_000, 60_000));
        started.add(r);
        r.ruleAdded("a", RuleSettings.parse("a", 1, "192.168.0.0/24", "20.0.0.0/30", "both", "10", false, true,
                false));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        r.snat(a("192.168.0.1"));
        mono.addAndGet(11_000);
        r.sweepNow();
        FakeBackend.Call c;
        do {
            c = backend.next();
        } while (!c.remove().contains(hb("192.168.0.1", "20.0.0.0")));
        assertThat(r.dnat(a("20.0.0.0"))).isEmpty();

        r.reconfigure(ManagerSettings.of(600, true, true, false, "wan0"));
        assertThat(backend.next().add()).containsExactly(hb("192.168.0.1", "20.0.0.0"));
        assertThat(r.dnat(a("20.0.0.0"))).as("D8: the expired binding receives inbound connections again")
                .contains(a("192.168.0.1"));
    }

    @Test
    void d5_d6_theConnectionWhoseFirstPacketWasQueuedIsNotCountedAgainByItsConntrackEvent() throws Exception {
        NetmapRuntime r = runtime(Optional.empty());
        // the first rule is full, so the host is bound by the second one, with its ttl (8 s); a second hit through
        // the first rule would refresh with 2 s, which the kernel target does only for the next connection (D5)
        r.ruleAdded("a", RuleSettings.parse("a", 1, "192.168.0.0/24", "20.0.0.0/32", "both", "2", false, true,
                false));
        r.ruleAdded("b", RuleSettings.parse("b", 2, "192.168.0.0/24", "30.0.0.0/32", "both", "8", false, true,
                false));
        r.snat(a("192.168.0.1"));
        FakeBackend backend = new FakeBackend();
        r.backendBound(backend);
        FakeQueue queue = new FakeQueue(backend);
        r.queued(queue, 1, Ipv4.parse("192.168.0.2"), PEER);
        assertThat(queue.next().installedThen()).contains(hb("192.168.0.2", "30.0.0.0"));

        int host = Ipv4.parse("192.168.0.2");
        r.conntrackEvents(List.of(new ConntrackEvent(17, host, PEER, PEER, Ipv4.parse("30.0.0.0"))));
        assertThat(ttlOf(r, "192.168.0.2")).as("the queued connection's own event is not a second hit").isEqualTo(8);
        r.conntrackEvents(List.of(new ConntrackEvent(17, host, PEER, PEER, Ipv4.parse("30.0.0.0"))));
        assertThat(ttlOf(r, "192.168.0.2")).as("a later connection refreshes through the first rule (D5)")
                .isEqualTo(2);
    }

    private static long ttlOf(NetmapRuntime r, String prenat) {
        return r.bindings().stream().filter(b -> b.prenat().equals(a(prenat))).findFirst().orElseThrow()
                .ttlSeconds();
    }

    @Test
    void d6_conntrackNewEventsRefreshBoundHostsOnly() {
        NetmapRuntime r = runtime(Optional.empty());
        r.ruleAdded("a", RuleSettings.parse("a", 1, "192.168.0.0/24", "20.0.0.0/30", "both", "10", false, true,
                false));
        r.snat(a("192.168.0.1"));
        r.snat(a("192.168.0.2"));
        mono.addAndGet(8_000);
        int wan = Ipv4.parse("1.1.1.1");

        r.conntrackEvents(List.of(
                new ConntrackEvent(6, Ipv4.parse("192.168.0.1"), wan, wan, Ipv4.parse("20.0.0.0")),  // outgoing
                new ConntrackEvent(6, wan, Ipv4.parse("20.0.0.1"), Ipv4.parse("192.168.0.2"), wan),  // incoming
                new ConntrackEvent(6, Ipv4.parse("192.168.0.3"), wan, wan, Ipv4.parse("9.9.9.9")))); // unbound

        assertThat(r.bindings()).extracting(NetmapBinding::prenat, NetmapBinding::ttlSeconds).containsExactly(
                org.assertj.core.groups.Tuple.tuple(a("192.168.0.1"), 10L),
                org.assertj.core.groups.Tuple.tuple(a("192.168.0.2"), 10L));
    }

    @Test
    void d6_conntrackBindModeBindsNewHosts() {
        ManagerSettings bindMode = ManagerSettings.of(600, true, true, false, "wan0", false, List.of("conntrack"), true,
                java.util.OptionalInt.empty());
        NetmapRuntime r = new NetmapRuntime(bindMode, Optional.empty(),
                new NetmapRuntime.Params(mono::get, wall::get, 0, 3_600_000, 2000));
        started.add(r);
        r.ruleAdded("a", rule("a", 1, "192.168.0.0/24", "20.0.0.0/30"));
        int wan = Ipv4.parse("1.1.1.1");

        r.conntrackEvents(List.of(new ConntrackEvent(17, Ipv4.parse("192.168.0.9"), wan, wan, Ipv4.parse("9.9.9.9"))));

        assertThat(r.bindings()).extracting(NetmapBinding::postnat).containsExactly(a("20.0.0.0"));
    }

    @Test
    void d1_d10_invalidRulesAndSettingsAreRefusedWithPreciseMessages() {
        assertThatThrownBy(() -> RuleSettings.parse("r", 1, "", "20.0.0.0/15", "snat", "", false, true, false))
                .hasMessage("rule r: prefix: Max netmask size is /16: '20.0.0.0/15'");
        assertThatThrownBy(() -> RuleSettings.parse("r", 1, "", "10.0.0.1/24", "snat", "", false, true, false))
                .hasMessage("rule r: prefix: Bad network address: '10.0.0.1/24'");
        assertThatThrownBy(() -> RuleSettings.parse("r", 1, "", "", "snat", "", false, true, false))
                .hasMessage("rule r: a snat rule needs a prefix (SPEC D10)");
        assertThatThrownBy(() -> RuleSettings.parse("r", 1, "", "20.0.0.0/24", "output", "", false, true, false))
                .hasMessageContaining("rule r: hook: hook output is not supported");
        assertThatThrownBy(() -> RuleSettings.parse("r", 1, "", "20.0.0.0/24", "snat", "ten", false, true, false))
                .hasMessageStartingWith("rule r: ttl: must be whole seconds");
        assertThat(RuleSettings.parse("r", 1, "", "", "dnat", "-1", false, true, false).ttlSeconds()).hasValue(-1);
        assertThatThrownBy(() -> ManagerSettings.of(600, true, true, false, ""))
                .hasMessage("external.interface must be an interface name of 1 to 15 characters, was ''");
        assertThatThrownBy(() -> ManagerSettings.of(-1, true, true, false, "eth0"))
                .hasMessageStartingWith("default_ttl must be in 0..");
    }
}
