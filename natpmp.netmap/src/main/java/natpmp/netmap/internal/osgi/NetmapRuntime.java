// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;
import natpmp.api.QueueRule;
import natpmp.api.Topology;
import natpmp.netmap.internal.core.BindingFile;
import natpmp.netmap.internal.core.Cidr;
import natpmp.netmap.internal.core.ConntrackEvent;
import natpmp.netmap.internal.core.Ipv4;
import natpmp.netmap.internal.core.KernelLog;
import natpmp.netmap.internal.core.NetmapAllocator;
import natpmp.netmap.internal.core.NetmapAllocator.StoredBinding;
import natpmp.netmap.internal.core.NetmapEvents;
import natpmp.netmap.internal.core.NetmapRule;
import natpmp.netmap.internal.exec.ConntrackMonitor;
import natpmp.netmap.internal.net.BindingStore;
import natpmp.netmap.internal.net.FlowQueue;
import natpmp.netmap.internal.net.NfqueueFlowQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The running subnet mapper.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@code netmap-loop} owns the {@link NetmapAllocator}, the desired and installed binding sets, the
 * backend reference and every timer. Service calls and SCR callbacks only queue work here.</li>
 * <li>{@code netmap-commit} runs one firewall job at a time (reconcile, apply, release) and writes the bindings
 * file, then reports back to the loop.</li>
 * </ul>
 *
 * <h2>Firewall</h2>
 * Every binding in the engine (active or expired but not reclaimed, D8) is a {@link HostBinding} of owner
 * {@value #OWNER}. A newly bound backend, a changed external interface and any failure lead to a full
 * {@link FirewallBackend#reconcile}; otherwise the changes collected since the last job go out as one
 * {@link FirewallChange}.
 *
 * <h2>Data path</h2>
 * While the NFQUEUE is open, the reconciled state carries one {@link QueueRule} per SNAT rule subnet (an empty
 * subnet is every source; subnets inside another one are left out): the backend holds the first packet of each
 * new outbound connection of a source without an installed binding. {@link #queued} decides it as the
 * POSTROUTING target and gives the verdict only once the firewall job carrying the new binding has succeeded, so
 * the packet meets its rule; a decision that translates nothing is accepted at once (D4: traversal continues).
 * Bound sources never reach user space; their new connections refresh the binding through conntrack NEW events
 * ({@link #conntrackEvents}, D6). Without an open queue there are no queue rules, so traffic is never held by a
 * queue nobody reads. A backend that refuses the queue rules (a kernel without the queue expression) gets the
 * state without them, and they are tried again after {@link #QUEUE_RETRY_MILLIS}.
 */
final class NetmapRuntime implements AutoCloseable {
    /** Owner name of our state in the firewall backend. */
    static final String OWNER = "netmap";
    private static final long MIN_RETRY_MILLIS = 1000;
    private static final long MAX_RETRY_MILLIS = 60_000;
    private static final long CALL_TIMEOUT_SECONDS = 10;
    /**
     * How long the decision of a queued first packet waits for the conntrack NEW event of its connection, which
     * must not count as a second hit (the kernel target runs once per connection, D6).
     */
    static final long QUEUED_FLOW_MEMORY_MILLIS = 10_000;
    /** How long a backend that refused the queue rules is served without them before they are tried again. */
    static final long QUEUE_RETRY_MILLIS = 300_000;

    private static final Logger LOG = LoggerFactory.getLogger(NetmapRuntime.class);

    /**
     * What production takes from the host; tests replace parts of it.
     *
     * @param monotonicMillis the monotonic clock
     * @param wallMillis      the wall clock (bindings file only)
     * @param batchMillis     how long changes are collected before a firewall job starts
     * @param saveMillis      how often the remaining ttls are saved even without binding changes
     * @param verdictTimeoutMillis how long a queued packet may wait for its binding to reach the kernel before
     *                        it is dropped
     * @param queues          opens an NFQUEUE queue by number
     * @param ruleSettleMillis how long rule changes are collected before they apply
     */
    record Params(LongSupplier monotonicMillis, LongSupplier wallMillis, long batchMillis, long saveMillis,
            long verdictTimeoutMillis, IntFunction<FlowQueue> queues, long ruleSettleMillis) {
        Params(LongSupplier monotonicMillis, LongSupplier wallMillis, long batchMillis, long saveMillis,
                long verdictTimeoutMillis) {
            this(monotonicMillis, wallMillis, batchMillis, saveMillis, verdictTimeoutMillis, n -> {
                throw new IllegalStateException("no NFQUEUE in this setup");
            }, 0);
        }

        static Params production() {
            return new Params(() -> System.nanoTime() / 1_000_000, System::currentTimeMillis, 20, 60_000, 2000,
                    // a lambda, not NfqueueFlowQueue::new: JNA is optional and must load only when a queue opens
                    number -> NfqueueFlowQueue.open(number), 500);
        }
    }

    private final Params params;
    private final Optional<BindingStore> store;
    private final ScheduledThreadPoolExecutor loop;
    private final ExecutorService commit;
    private final KernelLog kernelLog;
    private final NetmapAllocator engine;
    private final Map<Object, NetmapRule> ruleSources = new ConcurrentHashMap<>();

    // ---- owned by the loop thread ----
    private ManagerSettings settings;
    private volatile Thread loopThread;
    private FirewallBackend backend;
    private final List<FirewallBackend> toRelease = new ArrayList<>();
    private final Set<HostBinding> desired = new HashSet<>();
    private Set<HostBinding> installed = Set.of();
    private boolean needReconcile = true;
    private boolean jobRunning;
    private boolean dirty;
    private ScheduledFuture<?> commitTimer;
    private ScheduledFuture<?> rulesTimer;
    private long retryMillis = MIN_RETRY_MILLIS;
    /** Saved bindings whose pool does not exist yet; remaining times relative to {@link #restoreBase}. */
    private List<StoredBinding> pendingRestore = List.of();
    private long restoreBase;
    private boolean closed;
    /** Counts changes of the desired binding set; a job carries the version it installs. */
    private long version;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private ConntrackMonitor conntrack;
    private FlowQueue flowQueue;
    /** The queue rules the backend holds since the last successful reconcile. */
    private Set<QueueRule> installedQueueRules = Set.of();
    /** The backend that refused the queue rules last, and until when it is served without them. */
    private FirewallBackend queueRefusedBy;
    private long queueRefusedUntil;
    private int queueRefusals;
    /** Source and destination of connections the queue decided, whose NEW event is still to come, with counts. */
    private final Map<Long, Integer> queuedFlows = new java.util.HashMap<>();
    /** The same keys in decision order with their time, to forget events that never come (dropped packets). */
    private final ArrayDeque<long[]> queuedFlowTimes = new ArrayDeque<>();

    /** A queued packet waiting for the firewall job that installs its binding. */
    private record Waiting(FlowQueue queue, long packetId, long version) {
    }

    NetmapRuntime(ManagerSettings settings, Optional<BindingStore> store, Params params) {
        this.params = params;
        this.store = store;
        this.settings = settings;
        this.kernelLog = new KernelLog(new Tracker(), LOG::info, settings.log());
        this.engine = new NetmapAllocator(settings.engine(), kernelLog);
        this.loop = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "netmap-loop");
            t.setDaemon(true);
            loopThread = t;
            return t;
        });
        loop.setRemoveOnCancelPolicy(true);
        this.commit = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "netmap-commit");
            t.setDaemon(true);
            return t;
        });
        loadSaved();
        onLoop(() -> {
            startConntrack(settings);
            startQueue(settings);
        });
        loop.scheduleWithFixedDelay(this::sweep, 1000, 1000, TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(() -> {
            if (engine.bindingCount() > 0 || !pendingRestore.isEmpty()) {
                dirty = true;
                scheduleCommit();
            }
        }, params.saveMillis(), params.saveMillis(), TimeUnit.MILLISECONDS);
        LOG.info("netmap: subnet mapper started, external interface {}, default_ttl {} s", settings.externalInterface(),
                settings.engine().defaultTtlSeconds());
    }

    /** Follows the engine's binding changes into the desired firewall state. */
    private final class Tracker implements NetmapEvents {
        @Override
        public void bound(int prenat, int postnat) {
            add(prenat, postnat);
        }

        @Override
        public void staticAdded(int prenat, int postnat) {
            add(prenat, postnat);
        }

        @Override
        public void timedOut(int prenat, int postnat) {
            drop(prenat, postnat);
        }

        @Override
        public void removed(int prenat, int postnat) {
            drop(prenat, postnat);
        }

        @Override
        public void released(int prenat, int postnat) {
            drop(prenat, postnat);
        }

        private void add(int pre, int post) {
            desired.add(new HostBinding(Ipv4.toAddress(pre), Ipv4.toAddress(post)));
            changed();
        }

        private void drop(int pre, int post) {
            desired.remove(new HostBinding(Ipv4.toAddress(pre), Ipv4.toAddress(post)));
            changed();
        }
    }

    private void changed() {
        version++;
        dirty = true;
        scheduleCommit();
    }

    private void loadSaved() {
        if (store.isEmpty()) {
            return;
        }
        try {
            Optional<String> text = store.get().read();
            if (text.isPresent()) {
                BindingFile.Saved saved = BindingFile.parse(text.get());
                pendingRestore = saved.aged(params.wallMillis().getAsLong());
                restoreBase = now();
                LOG.info("netmap: {} saved bindings to restore from {}", pendingRestore.size(), store.get().file());
            }
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("netmap: ignoring the bindings file {}: {}", store.get().file(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ SCR callbacks (any thread)

    void ruleAdded(Object source, NetmapRule rule) {
        ruleSources.put(source, rule);
        onLoop(this::scheduleRules);
    }

    void ruleRemoved(Object source) {
        ruleSources.remove(source);
        onLoop(this::scheduleRules);
    }

    /**
     * Rule changes are applied after {@link Params#ruleSettleMillis}, so a rule deleted and created again at once
     * (a configuration file rewritten) does not take its pool and bindings with it (D2: like an atomic table
     * replace).
     */
    private void scheduleRules() {
        if (params.ruleSettleMillis() <= 0) {
            applyRules();
        } else if (rulesTimer == null && !closed) {
            rulesTimer = loop.schedule(() -> {
                rulesTimer = null;
                applyRules();
            }, params.ruleSettleMillis(), TimeUnit.MILLISECONDS);
        }
    }

    void reconfigure(ManagerSettings next) {
        onLoop(() -> {
            ManagerSettings previous = settings;
            settings = next;
            kernelLog.log(next.log());
            engine.settings(next.engine());
            if (previous.conntrack() != next.conntrack()
                    || !previous.conntrackCommand().equals(next.conntrackCommand())) {
                stopConntrack();
                startConntrack(next);
            }
            if (!previous.queue().equals(next.queue())) {
                stopQueue();
                queueRefusedBy = null;
                startQueue(next);
            }
            if (!previous.engine().dnatExpired() && next.engine().dnatExpired()) {
                // D8 again: expired bindings the sweep took out of the kernel receive inbound connections
                engine.forEachExpired(now(), (pre, post) -> ensureInstalled(pre, post & 0xffffffffL));
            }
            if (!previous.externalInterface().equals(next.externalInterface())) {
                needReconcile = true;
                scheduleCommit();
            }
            LOG.info("netmap: settings changed: default_ttl {} s, log {}, dnat_expired {}, external interface {}",
                    next.engine().defaultTtlSeconds(), next.log(), next.engine().dnatExpired(),
                    next.externalInterface());
        });
    }

    void backendBound(FirewallBackend b) {
        onLoop(() -> {
            if (backend == b) {
                return;
            }
            if (backend != null) {
                toRelease.add(backend); // released after the new one holds everything
            }
            toRelease.remove(b);
            backend = b;
            needReconcile = true;
            installedQueueRules = Set.of();
            LOG.info("netmap: firewall backend {} bound; installing {} bindings", name(b), desired.size());
            scheduleCommit();
        });
    }

    void backendUnbound(FirewallBackend b) {
        onLoop(() -> {
            if (backend == b) {
                backend = null;
                installed = Set.of();
                installedQueueRules = Set.of();
                LOG.warn("netmap: firewall backend {} unbound; bindings are kept and installed when another is bound",
                        name(b));
            }
            if (!toRelease.contains(b)) {
                toRelease.add(b);
            }
            scheduleCommit();
        });
    }

    /**
     * Refreshes bindings from new connections (D6: the kernel target refreshes on the first packet of each new
     * connection). Outgoing: the original source is the private host; it goes through the SNAT rules (refresh,
     * or with {@code conntrack.bind} a new binding). Incoming: the original destination is the public address;
     * it goes through the DNAT rules (refresh).
     *
     * @param events a batch of events, from the monitor thread
     */
    void conntrackEvents(List<ConntrackEvent> events) {
        onLoop(() -> {
            long now = now();
            boolean bind = settings.conntrackBind();
            forgetOldQueuedFlows(now);
            for (ConntrackEvent e : events) {
                if (consumeQueuedFlow(e.origSrc(), e.origDst())) {
                    continue; // its first packet was decided (and counted) when the queue held it
                }
                if (bind || engine.isBound(e.origSrc())) {
                    ensureInstalled(e.origSrc(), engine.snat(e.origSrc(), now));
                }
                long pre = engine.dnat(e.origDst(), now);
                if (pre != NetmapAllocator.NO_TRANSLATION) {
                    ensureInstalled((int) pre, e.origDst() & 0xffffffffL);
                }
            }
        });
    }

    /**
     * The first packet of a new connection of a host without an installed binding, held in {@code queue}.
     * Decides as the POSTROUTING target; the verdict is {@code ACCEPT} at once when nothing is to be installed
     * (no rule translated: chain traversal continues, D4), otherwise once the binding is in the kernel.
     *
     * @param queue       the queue holding the packet
     * @param packetId    the packet
     * @param source      its source
     * @param destination its destination
     */
    void queued(FlowQueue queue, long packetId, int source, int destination) {
        Runnable decide = () -> {
            if (closed) {
                queue.verdict(packetId, FlowQueue.Verdict.ACCEPT);
                return;
            }
            long now = now();
            long result = engine.snat(source, now);
            if (result != NetmapAllocator.NO_TRANSLATION) {
                rememberQueuedFlow(source, destination, now);
            }
            ensureInstalled(source, result);
            if (result == NetmapAllocator.NO_TRANSLATION || backend == null
                    || installed.contains(new HostBinding(Ipv4.toAddress(source), Ipv4.toAddress((int) result)))) {
                queue.verdict(packetId, FlowQueue.Verdict.ACCEPT);
                return;
            }
            waiting.add(new Waiting(queue, packetId, version));
            loop.schedule(() -> expireVerdict(queue, packetId), params.verdictTimeoutMillis(), TimeUnit.MILLISECONDS);
            expedite();
        };
        try {
            loop.execute(decide);
        } catch (RejectedExecutionException e) {
            // stopped: let the packet go on (our rules are being released) rather than hold it until the timeout
            queue.verdict(packetId, FlowQueue.Verdict.ACCEPT);
        }
    }

    private static long flowKey(int source, int destination) {
        return ((long) source << 32) | (destination & 0xffffffffL);
    }

    private void rememberQueuedFlow(int source, int destination, long now) {
        forgetOldQueuedFlows(now);
        long key = flowKey(source, destination);
        queuedFlows.merge(key, 1, Integer::sum);
        queuedFlowTimes.addLast(new long[] {key, now});
    }

    private boolean consumeQueuedFlow(int source, int destination) {
        long key = flowKey(source, destination);
        Integer n = queuedFlows.get(key);
        if (n == null) {
            return false;
        }
        if (n == 1) {
            queuedFlows.remove(key);
        } else {
            queuedFlows.put(key, n - 1);
        }
        return true;
    }

    private void forgetOldQueuedFlows(long now) {
        while (!queuedFlowTimes.isEmpty() && queuedFlowTimes.peekFirst()[1] + QUEUED_FLOW_MEMORY_MILLIS < now) {
            long key = queuedFlowTimes.pollFirst()[0];
            queuedFlows.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
        }
    }

    /**
     * A packet is waiting for its binding: start the firewall job now instead of after the batch delay (a job
     * already running is followed at once by the next one, which takes everything that arrived meanwhile).
     */
    private void expedite() {
        if (jobRunning || closed) {
            return;
        }
        if (commitTimer != null) {
            commitTimer.cancel(false);
            commitTimer = null;
        }
        startJob();
    }

    /**
     * A binding used by a decision must be in the kernel: it may have been taken out by {@link #sweep} while it
     * was expired and now be active again (same address, D5).
     */
    private void ensureInstalled(int prenat, long postnat) {
        if (postnat == NetmapAllocator.NO_TRANSLATION) {
            return;
        }
        HostBinding b = new HostBinding(Ipv4.toAddress(prenat), Ipv4.toAddress((int) postnat));
        if (desired.add(b)) {
            changed();
        }
    }

    /**
     * With {@code dnat_expired=false} expired bindings leave the kernel (they stay in the engine, D8), so new
     * inbound connections to them are not translated and their host's next connection is queued again, which
     * re-activates the binding with the same address.
     */
    void sweep() {
        if (settings.engine().dnatExpired() || closed) {
            return;
        }
        boolean[] any = {false};
        engine.forEachExpired(now(), (pre, post) -> {
            if (desired.remove(new HostBinding(Ipv4.toAddress(pre), Ipv4.toAddress(post)))) {
                any[0] = true;
            }
        });
        if (any[0]) {
            changed();
        }
    }

    private void expireVerdict(FlowQueue queue, long packetId) {
        if (waiting.removeIf(w -> w.queue() == queue && w.packetId() == packetId)) {
            LOG.warn("netmap: binding not in the kernel within {} ms; dropping queued packet {}",
                    params.verdictTimeoutMillis(), packetId);
            queue.verdict(packetId, FlowQueue.Verdict.DROP);
        }
    }

    private void releaseVerdicts(long upTo) {
        while (!waiting.isEmpty() && waiting.peekFirst().version() <= upTo) {
            Waiting w = waiting.pollFirst();
            w.queue().verdict(w.packetId(), FlowQueue.Verdict.ACCEPT);
        }
    }

    private void startConntrack(ManagerSettings s) {
        if (s.conntrack() && conntrack == null && !closed) {
            conntrack = new ConntrackMonitor(s.conntrackCommand(), this::conntrackEvents, 1000, 60_000,
                    params.monotonicMillis());
        }
    }

    private void startQueue(ManagerSettings s) {
        if (s.queue().isEmpty() || flowQueue != null || closed) {
            return;
        }
        try {
            FlowQueue q = params.queues().apply(s.queue().getAsInt());
            q.start((packetId, source, destination) -> queued(q, packetId, source, destination));
            flowQueue = q;
            LOG.info("netmap: NFQUEUE {} open: the first packet of each new connection of an unbound host is held"
                    + " there until its binding is in the kernel", s.queue().getAsInt());
            scheduleCommit(); // the queue rules go into the next reconcile
        } catch (RuntimeException | LinkageError e) {
            // LinkageError: JNA is not installed
            LOG.error("netmap: cannot open NFQUEUE {}; no queue rules are installed, so first packets are not held"
                    + " and new hosts are not bound from traffic: {}", s.queue().getAsInt(), e.toString());
        }
    }

    private void stopQueue() {
        if (flowQueue != null) {
            releaseVerdicts(Long.MAX_VALUE);
            flowQueue.close();
            flowQueue = null;
            scheduleCommit(); // take the queue rules out: nobody reads the queue any more
        }
    }

    private void stopConntrack() {
        if (conntrack != null) {
            conntrack.close();
            conntrack = null;
        }
    }

    // ------------------------------------------------------------------ loop work

    private void applyRules() {
        long now = now();
        NetmapAllocator.Configuration c = engine.configure(List.copyOf(ruleSources.values()), now);
        for (String refusal : c.refused()) {
            LOG.error("netmap: {}", refusal);
        }
        LOG.info("netmap: {} rules in effect, pools {}", c.accepted().size(), engine.pools());
        restorePending(now);
        changed();
    }

    /** Runs {@link #sweep} on the loop and waits (tests). */
    void sweepNow() {
        call(() -> {
            sweep();
            return null;
        });
    }

    private void restorePending(long now) {
        if (pendingRestore.isEmpty()) {
            return;
        }
        List<StoredBinding> left = new ArrayList<>();
        int restored = 0;
        long elapsed = now - restoreBase;
        for (StoredBinding b : pendingRestore) {
            StoredBinding aged = new StoredBinding(b.prenat(), b.postnat(),
                    b.staticBinding() ? 0 : b.remainingMillis() - elapsed, b.staticBinding());
            if (engine.restore(aged, now)) {
                desired.add(new HostBinding(Ipv4.toAddress(b.prenat()), Ipv4.toAddress(b.postnat())));
                restored++;
            } else if (!engine.pools().isEmpty() && inSomePool(b.postnat())) {
                LOG.info("netmap: saved binding {} -> {} not restored: an address is taken", Ipv4.format(b.prenat()),
                        Ipv4.format(b.postnat()));
            } else {
                left.add(b);
            }
        }
        pendingRestore = List.copyOf(left);
        if (restored > 0) {
            LOG.info("netmap: restored {} saved bindings", restored);
        }
    }

    private boolean inSomePool(int address) {
        for (Cidr c : engine.pools()) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private Topology topology() {
        return new Topology(settings.externalInterface(), Optional.empty(), List.of());
    }

    private void scheduleCommit() {
        if (commitTimer == null && !jobRunning && !closed) {
            // packets held for their binding do not wait for the batch delay
            long delay = waiting.isEmpty() ? params.batchMillis() : 0;
            commitTimer = loop.schedule(this::startJob, delay, TimeUnit.MILLISECONDS);
        }
    }

    private record Job(FirewallBackend backend, FirewallState state, FirewallChange change, Set<HostBinding> target,
            List<FirewallBackend> release, Optional<String> save, long version) {
    }

    /**
     * How a job ended.
     *
     * @param error        the failure, null when the kernel holds the job's state
     * @param queueRefusal when the backend refused the queue rules and took the state without them, why
     */
    private record Outcome(Exception error, Exception queueRefusal) {
    }

    private void startJob() {
        commitTimer = null;
        if (jobRunning || closed) {
            return;
        }
        FirewallBackend b = backend;
        Set<HostBinding> target = Set.copyOf(desired);
        FirewallState state = null;
        FirewallChange change = null;
        if (b != null) {
            Set<QueueRule> queueRules = queueRules();
            if (needReconcile || !queueRules.equals(installedQueueRules)) {
                // queue rules change only through reconcile (SPI)
                state = new FirewallState(topology(), Set.of(), target, queueRules);
            } else {
                Set<HostBinding> add = new HashSet<>(target);
                add.removeAll(installed);
                Set<HostBinding> remove = new HashSet<>(installed);
                remove.removeAll(target);
                FirewallChange c = new FirewallChange(Set.of(), Set.of(), add, remove);
                change = c.isEmpty() ? null : c;
            }
        }
        Optional<String> save = dirty && store.isPresent() ? Optional.of(fileText()) : Optional.empty();
        dirty = false;
        List<FirewallBackend> release = List.copyOf(toRelease);
        toRelease.clear();
        if (state == null && change == null && release.isEmpty() && save.isEmpty()) {
            if (b != null) {
                releaseVerdicts(version); // nothing to install: the kernel already holds every binding
            }
            return;
        }
        jobRunning = true;
        Job job = new Job(b, state, change, target, release, save, version);
        commit.execute(() -> runJob(job));
    }

    private String fileText() {
        long now = now();
        List<StoredBinding> all = new ArrayList<>(engine.storedBindings(now));
        long elapsed = now - restoreBase;
        for (StoredBinding b : pendingRestore) {
            all.add(new StoredBinding(b.prenat(), b.postnat(), b.remainingMillis() - elapsed, b.staticBinding()));
        }
        return BindingFile.format(all, params.wallMillis().getAsLong());
    }

    private void runJob(Job job) {
        Exception error = null;
        Exception queueRefusal = null;
        try {
            if (job.state() != null) {
                queueRefusal = reconcile(job);
                LOG.info("netmap: firewall backend {} reconciled to {} bindings and {} queue rules",
                        name(job.backend()), job.target().size(),
                        queueRefusal == null ? job.state().queueRules().size() : 0);
            } else if (job.change() != null) {
                job.backend().apply(OWNER, job.change());
                LOG.debug("netmap: firewall backend {}: +{} -{} bindings", name(job.backend()),
                        job.change().addBindings().size(), job.change().removeBindings().size());
            }
        } catch (FirewallException | RuntimeException e) {
            error = e;
        }
        for (FirewallBackend old : job.release()) {
            release(old);
        }
        if (job.save().isPresent()) {
            try {
                store.get().write(job.save().get());
            } catch (IOException e) {
                LOG.warn("netmap: cannot write the bindings file {}: {}", store.get().file(), e.toString());
            }
        }
        Outcome outcome = new Outcome(error, queueRefusal);
        try {
            loop.execute(() -> jobDone(job, outcome));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Reconciles the job's state; if the backend refuses a state with queue rules, reconciles it without them
     * (a kernel without the queue expression must not cost the bindings).
     *
     * @return why the queue rules were refused, null when they were installed (or there were none)
     */
    private static Exception reconcile(Job job) throws FirewallException {
        try {
            job.backend().reconcile(OWNER, job.state());
            return null;
        } catch (FirewallException | RuntimeException e) {
            if (job.state().queueRules().isEmpty()) {
                throw e;
            }
            FirewallState without = new FirewallState(job.state().topology(), job.state().forwards(),
                    job.state().bindings());
            try {
                job.backend().reconcile(OWNER, without);
            } catch (FirewallException | RuntimeException again) {
                e.addSuppressed(again);
                throw e;
            }
            return e;
        }
    }

    private static void release(FirewallBackend old) {
        try {
            old.release(OWNER);
            LOG.info("netmap: released our bindings from firewall backend {}", name(old));
        } catch (FirewallException | RuntimeException e) {
            LOG.warn("netmap: could not release our bindings from firewall backend {}: {}", name(old), e.getMessage());
        }
    }

    private void jobDone(Job job, Outcome outcome) {
        jobRunning = false;
        Exception error = outcome.error();
        if (job.backend() != null && job.backend() == backend && (job.state() != null || job.change() != null)) {
            if (error == null) {
                installed = job.target();
                if (job.state() != null) {
                    installedQueueRules = outcome.queueRefusal() == null ? job.state().queueRules() : Set.of();
                    if (outcome.queueRefusal() != null) {
                        queueRefused(job.backend(), outcome.queueRefusal());
                    }
                }
                needReconcile = false;
                retryMillis = MIN_RETRY_MILLIS;
                releaseVerdicts(job.version());
            } else {
                needReconcile = true;
                LOG.warn("netmap: firewall backend {} failed, full reconcile in {} ms: {}", name(job.backend()),
                        retryMillis, error.getMessage());
                if (!closed) {
                    commitTimer = loop.schedule(this::startJob, retryMillis, TimeUnit.MILLISECONDS);
                }
                retryMillis = Math.min(MAX_RETRY_MILLIS, retryMillis * 2);
                return;
            }
        }
        if ((backend != null && (needReconcile || !installed.equals(desired)
                || !queueRules().equals(installedQueueRules))) || dirty || !toRelease.isEmpty()) {
            scheduleCommit();
        }
    }

    private void queueRefused(FirewallBackend b, Exception why) {
        queueRefusedBy = b;
        queueRefusedUntil = now() + QUEUE_RETRY_MILLIS;
        if (queueRefusals++ == 0) {
            LOG.error("netmap: firewall backend {} refused the queue rules, so the first packets of unbound hosts are"
                    + " not held and new hosts are not bound from traffic (bindings already made still work);"
                    + " trying again every {} s: {}", name(b), QUEUE_RETRY_MILLIS / 1000, why.getMessage());
        } else {
            LOG.warn("netmap: firewall backend {} still refuses the queue rules: {}", name(b), why.getMessage());
        }
        loop.schedule(this::scheduleCommit, QUEUE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * The queue rules the backend should hold: one per SNAT rule subnet (empty subnet = every source), subnets
     * inside another one left out, while the queue is open and the backend has not refused them lately.
     */
    private Set<QueueRule> queueRules() {
        if (flowQueue == null || settings.queue().isEmpty()
                || (queueRefusedBy == backend && now() < queueRefusedUntil)) {
            return Set.of();
        }
        List<Cidr> subnets = new ArrayList<>();
        for (NetmapRule rule : engine.rules()) {
            if (rule.hook().snat()) {
                subnets.add(rule.subnet().orElse(new Cidr(0, 0)));
            }
        }
        subnets.sort(java.util.Comparator.comparingInt(Cidr::bits));
        Set<QueueRule> rules = new LinkedHashSet<>();
        List<Cidr> kept = new ArrayList<>();
        for (Cidr c : subnets) {
            if (kept.stream().noneMatch(k -> k.bits() <= c.bits() && k.contains(c.network()))) {
                kept.add(c);
                rules.add(new QueueRule(Ipv4.toAddress(c.network()), c.bits(), settings.queue().getAsInt()));
            }
        }
        return Set.copyOf(rules);
    }

    // ------------------------------------------------------------------ service calls (any thread)

    List<String> pools() {
        return call(() -> engine.pools().stream().map(Cidr::toString).toList());
    }

    List<NetmapBinding> bindings() {
        return call(() -> engine.bindings(now()));
    }

    List<NetmapPoolStats> stats() {
        return call(() -> {
            long now = now();
            return engine.pools().stream().map(p -> engine.stats(p, now)).toList();
        });
    }

    NetmapBinding addStatic(Inet4Address prenat, Inet4Address postnat) {
        return call(() -> {
            long now = now();
            engine.addStatic(Ipv4.of(prenat), Ipv4.of(postnat), now);
            return engine.bindings(now).stream().filter(b -> b.postnat().equals(postnat)).findFirst().orElseThrow();
        });
    }

    boolean remove(Inet4Address address) {
        return call(() -> engine.remove(Ipv4.of(address), now()));
    }

    int flush(String pool) {
        return call(() -> engine.flush(poolOf(pool)));
    }

    Optional<String> procTable(String pool) {
        return call(() -> find(pool).map(p -> engine.procTable(p, now(), false)));
    }

    Optional<String> procStat(String pool) {
        return call(() -> find(pool).map(p -> engine.procStat(p, now())));
    }

    /**
     * The POSTROUTING decision for a new connection (entry point for a data path).
     *
     * @param source the private address
     * @return the public address, empty when no rule translated
     */
    Optional<Inet4Address> snat(Inet4Address source) {
        return call(() -> decoded(engine.snat(Ipv4.of(source), now())));
    }

    /**
     * The PREROUTING decision for a new connection (entry point for a data path).
     *
     * @param destination the public address
     * @return the private address, empty when no rule translated
     */
    Optional<Inet4Address> dnat(Inet4Address destination) {
        return call(() -> decoded(engine.dnat(Ipv4.of(destination), now())));
    }

    private static Optional<Inet4Address> decoded(long result) {
        return result == NetmapAllocator.NO_TRANSLATION ? Optional.empty() : Optional.of(Ipv4.toAddress((int) result));
    }

    private Cidr poolOf(String pool) {
        return find(pool).orElseThrow(() -> new IllegalArgumentException("no pool " + pool + "; pools: "
                + engine.pools()));
    }

    private Optional<Cidr> find(String pool) {
        Cidr wanted;
        try {
            // accept both 20.0.0.0/26 and the /proc name 20.0.0.0_26
            wanted = Cidr.parse(pool.trim().replace('_', '/'));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return engine.pools().contains(wanted) ? Optional.of(wanted) : Optional.empty();
    }

    private <T> T call(Supplier<T> work) {
        if (Thread.currentThread() == loopThread) {
            return work.get();
        }
        CompletableFuture<T> result;
        try {
            result = CompletableFuture.supplyAsync(work, loop);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("the subnet mapper is stopped", e);
        }
        try {
            return result.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the subnet mapper did not answer within " + CALL_TIMEOUT_SECONDS + " s",
                    e);
        }
    }

    // ------------------------------------------------------------------ shutdown

    @Override
    public void close() {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                try {
                    shutdownOnLoop();
                } finally {
                    stopped.complete(null);
                }
            });
            stopped.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // already closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("netmap: shutdown did not finish cleanly: {}", e.toString());
        }
        loop.shutdownNow();
        commit.shutdown();
        try {
            if (!commit.awaitTermination(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                commit.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdownOnLoop() {
        closed = true;
        if (rulesTimer != null) {
            rulesTimer.cancel(false);
        }
        stopConntrack();
        releaseVerdicts(Long.MAX_VALUE);
        // The queue closes only after our rules are released: closed first, it would make the kernel drop the
        // new connections of unbound hosts until the release (the queue rule has no bypass).
        FlowQueue queue = flowQueue;
        flowQueue = null;
        if (commitTimer != null) {
            commitTimer.cancel(false);
        }
        Optional<String> text = store.isPresent() ? Optional.of(fileText()) : Optional.empty();
        int count = engine.bindingCount();
        List<FirewallBackend> release = new ArrayList<>(toRelease);
        if (backend != null && !release.contains(backend)) {
            release.add(backend);
        }
        commit.execute(() -> {
            text.ifPresent(t -> {
                try {
                    store.get().write(t);
                } catch (IOException e) {
                    LOG.warn("netmap: cannot write the bindings file {}: {}", store.get().file(), e.toString());
                }
            });
            release.forEach(NetmapRuntime::release);
            if (queue != null) {
                queue.close();
            }
        });
        LOG.info("netmap: subnet mapper stopped; {} bindings saved{}", count,
                store.map(s -> " to " + s.file()).orElse(" nowhere (no data area)"));
    }

    // ------------------------------------------------------------------ helpers

    private void onLoop(Runnable work) {
        try {
            loop.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    LOG.error("netmap: internal error", e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("netmap: stopped, ignoring a late callback");
        }
    }

    private long now() {
        return params.monotonicMillis().getAsLong();
    }

    private static String name(FirewallBackend b) {
        try {
            return b.name();
        } catch (RuntimeException e) {
            return b.getClass().getSimpleName();
        }
    }
}
