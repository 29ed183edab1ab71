// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.exec;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.QueueRule;
import natpmp.api.Topology;
import natpmp.exec.Command;
import natpmp.exec.CommandException;
import natpmp.exec.CommandResult;
import natpmp.exec.ProcessRunner;
import natpmp.iptables.internal.core.Delta;
import natpmp.iptables.internal.core.IptablesScript;
import natpmp.iptables.internal.core.IptablesSettings;
import natpmp.iptables.internal.core.JumpCounts;
import natpmp.iptables.internal.core.OwnerChains;
import natpmp.iptables.internal.core.ReadBack;
import natpmp.iptables.internal.core.Rule;
import natpmp.iptables.internal.core.RuleCounts;
import natpmp.iptables.internal.core.SavedRules;
import natpmp.iptables.internal.core.Tools;
import natpmp.iptables.internal.core.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The iptables backend without OSGi: runs {@code iptables-restore --noflush --wait} scripts rendered by
 * {@link IptablesScript} and reads back with {@code iptables-save} (tables nat, filter and mangle), through a
 * {@link ProcessRunner}.
 *
 * <p>Every kernel change (callers' and the watchdog's repairs) runs under one lock, so the per-owner state and
 * the kernel move together. An owner's state is only updated after the kernel accepted the script, so what we
 * believe is installed is never ahead of the kernel. The watchdog reads the tables without the lock (a dump of
 * thousands of rules takes a while, and batches must not wait for it) and compares only if none of our writes
 * happened meanwhile. {@link #health()} never blocks.
 */
public final class IptablesFirewall implements FirewallBackend, AutoCloseable {
    /** The value of {@link FirewallBackend#BACKEND_PROPERTY}. */
    public static final String NAME = "iptables";

    private static final Logger LOG = LoggerFactory.getLogger(IptablesFirewall.class);

    /** The watchdog pauses at least this many times as long as its last round took. */
    static final int WATCH_DUTY_FACTOR = 4;
    /**
     * The full comparison (three table dumps, which take about a second each with ten thousand mappings) runs at
     * most this often; every other round lists only the four built-in chains that jump to ours.
     */
    static final Duration FULL_CHECK_MIN_INTERVAL = Duration.ofSeconds(10);
    /** After a full comparison the watchdog waits at least this many times as long as it took. */
    static final int FULL_CHECK_DUTY = 20;

    private final ProcessRunner runner;
    private final InstantSource clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicReference<ScheduledExecutorService> watchdog = new AtomicReference<>();

    // guarded by lock
    private final Map<String, OwnerState> owners = new TreeMap<>();
    private IptablesSettings settings;
    private Tools tools;
    private long repairs;
    /** Whether the current FAILED state came from a read (watchdog or read-back), which a good read clears. */
    private boolean failureFromRead;
    /** Counts our writes to the kernel, so the watchdog can tell whether its unlocked read is still current. */
    private long writes;
    /** When the next full comparison is due (clock millis); 0 = at the next round. */
    private long nextFullCheckMillis;

    private volatile BackendHealth health;
    /** Set when {@link #close()} begins: batches are refused at once instead of waiting behind the removal. */
    private volatile boolean closing;

    /**
     * @param runner   runs the iptables programs
     * @param settings the validated configuration
     * @param clock    for the {@link BackendHealth#since()} stamps
     */
    public IptablesFirewall(ProcessRunner runner, IptablesSettings settings, InstantSource clock) {
        this.runner = runner;
        this.settings = settings;
        this.clock = clock;
        this.health = new BackendHealth(NAME, Health.OK, clock.instant(), Optional.empty(), 0);
    }

    /** Starts the watchdog (unless its interval is 0). */
    public void start() {
        Duration interval;
        lock.lock();
        try {
            interval = settings.watchInterval();
        } finally {
            lock.unlock();
        }
        schedule(interval);
    }

    private void schedule(Duration interval) {
        if (interval.isZero()) {
            return;
        }
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natpmp-iptables-watchdog");
            t.setDaemon(true);
            return t;
        });
        ScheduledExecutorService previous = watchdog.getAndSet(executor);
        if (previous != null) {
            previous.shutdownNow();
        }
        executor.schedule(() -> round(executor, interval), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Runs one watchdog round and schedules the next one. The pause after a round is at least
     * {@value #WATCH_DUTY_FACTOR} times as long as the round took, so reading back a very large state (tens of
     * thousands of rules with iptables-nft take about a second to dump) never keeps a core busy.
     */
    private void round(ScheduledExecutorService executor, Duration interval) {
        long start = System.nanoTime();
        watchOnce();
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        long delay = Math.max(interval.toMillis(), tookMs * WATCH_DUTY_FACTOR);
        if (watchdog.get() == executor && !executor.isShutdown()) {
            try {
                executor.schedule(() -> round(executor, interval), delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // stopped while this round ran
            }
        }
    }

    private void stopWatchdog(Duration wait) {
        ScheduledExecutorService executor = watchdog.getAndSet(null);
        if (executor != null) {
            executor.shutdownNow(); // interrupts a running check; the runner then kills its child
            try {
                if (!executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("iptables watchdog did not stop within {} ms", wait.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Applies new settings in place: the timeout at once, a new watchdog interval by rescheduling, a new
     * variant by moving every owner's rules from the old flavour's tables to the new one's.
     *
     * @param next the new settings
     */
    public void update(IptablesSettings next) {
        boolean reschedule;
        lock.lock();
        try {
            IptablesSettings previous = settings;
            reschedule = !previous.watchInterval().equals(next.watchInterval());
            if (previous.variant() != next.variant()) {
                migrate(next);
            } else {
                settings = next;
            }
        } finally {
            lock.unlock();
        }
        if (reschedule) {
            stopWatchdog(next.timeout());
            schedule(next.watchInterval());
        }
    }

    private void migrate(IptablesSettings next) {
        if (!owners.isEmpty() && tools != null) {
            try {
                releaseAllLocked();
            } catch (FirewallException e) {
                LOG.error("could not remove the rules from {} while switching to variant {}: {}", tools.restore(),
                        next.variant(), e.getMessage());
            }
        }
        settings = next;
        tools = null;
        for (OwnerState s : owners.values()) {
            try {
                reconcileLocked(s.chains, s.snapshot(), null);
                s.reconciled();
                succeeded();
            } catch (FirewallException e) {
                failed(e, false);
            }
        }
        LOG.info("iptables variant is now {}", next.variant());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void reconcile(String owner, FirewallState desired) throws FirewallException {
        OwnerChains chains = OwnerChains.of(owner);
        IptablesScript.requireValid(desired.topology());
        refuseWhileClosing();
        lock.lock();
        try {
            reconcileLocked(chains, desired, null);
            owners.put(owner, new OwnerState(chains, desired));
            succeeded();
            LOG.info("iptables: owner {} reconciled to {} forwards, {} bindings and {} queue rules", owner,
                    desired.forwards().size(), desired.bindings().size(), desired.queueRules().size());
        } catch (FirewallException e) {
            failed(e, false);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Replaces the owner's chains with {@code state}; {@code saved} is a fresh read-back, or null to read. */
    private void reconcileLocked(OwnerChains chains, FirewallState state, SavedRules saved) throws FirewallException {
        Tools t = tools();
        // the jumps are all a reconcile needs to know: four short listings, not three table dumps (which
        // iptables-nft restarts whenever another nftables transaction commits meanwhile)
        SavedRules current = saved != null ? saved : readJumps(t);
        restore(t, IptablesScript.reconcile(chains, state, current.jumps(chains)));
    }

    @Override
    public void apply(String owner, FirewallChange change) throws FirewallException {
        OwnerChains chains = OwnerChains.of(owner);
        refuseWhileClosing();
        lock.lock();
        try {
            OwnerState state = owners.get(owner);
            if (state == null) {
                throw new FirewallException("owner " + owner + " has no state here: reconcile it before apply");
            }
            Delta delta = Delta.of(state.forwards, state.bindings, change);
            if (delta.isEmpty()) {
                return;
            }
            boolean rebuilt = false;
            try {
                // the shards in use, not those of the current forwards: an emptied shard keeps its chain and jump
                restore(tools(), IptablesScript.change(chains, state.topology, !state.queueRules.isEmpty(), delta,
                        state.shards, state.forwards));
                succeeded();
            } catch (FirewallException e) {
                if (e.exitStatus() == FirewallException.NO_EXIT) {
                    failed(e, false);
                    throw e;
                }
                rebuildAfterRefusedBatch(state, delta, e);
                rebuilt = true;
            }
            delta.applyTo(state.forwards, state.bindings);
            if (rebuilt) {
                state.reconciled();
            } else {
                state.shards.or(OwnerChains.shardMask(delta.addForwards())); // emptied shards stay until a reconcile
            }
            LOG.info("iptables: owner {}: added {} forwards and {} bindings, removed {} forwards and {} bindings",
                    owner, delta.addForwards().size(), delta.addBindings().size(), delta.removeForwards().size(),
                    delta.removeBindings().size());
            if (LOG.isDebugEnabled()) {
                delta.removeForwards().forEach(f -> LOG.debug("iptables: owner {}: removed {}", owner, f));
                delta.addForwards().forEach(f -> LOG.debug("iptables: owner {}: added {}", owner, f));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The kernel refused a batch that matches our state, so our chains were changed from outside (a rule to
     * delete is gone, say): replace the owner's chains with the whole desired state instead.
     */
    private void rebuildAfterRefusedBatch(OwnerState state, Delta delta, FirewallException refused)
            throws FirewallException {
        Set<PortForward> forwards = new HashSet<>(state.forwards);
        Set<HostBinding> bindings = new HashSet<>(state.bindings);
        delta.applyTo(forwards, bindings);
        try {
            reconcileLocked(state.chains, new FirewallState(state.topology, forwards, bindings, state.queueRules),
                    null);
        } catch (FirewallException e) {
            refused.addSuppressed(e);
            failed(refused, false);
            throw refused;
        }
        repaired("owner " + state.chains.owner() + ": a batch was refused (" + refused.getMessage()
                + "); rebuilt the chains from the whole state");
    }

    @Override
    public FirewallState installed(String owner) throws FirewallException {
        OwnerChains chains = OwnerChains.of(owner);
        lock.lock();
        try {
            SavedRules saved = read(tools());
            readSucceeded();
            OwnerState state = owners.get(owner);
            return ReadBack.installed(saved, chains, Optional.ofNullable(state).map(s -> s.topology));
        } catch (FirewallException e) {
            failed(e, true);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void release(String owner) throws FirewallException {
        OwnerChains chains = OwnerChains.of(owner);
        lock.lock();
        try {
            Tools t = tools();
            restore(t, IptablesScript.flush(List.of(chains)));
            SavedRules saved = readJumps(t);
            restore(t, IptablesScript.release(List.of(new IptablesScript.Release(chains, saved.jumps(chains)))));
            owners.remove(owner);
            succeeded();
            LOG.info("iptables: owner {} released, its chains are gone", owner);
        } catch (FirewallException e) {
            failed(e, false);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private void refuseWhileClosing() throws FirewallException {
        if (closing) {
            throw new FirewallException("the iptables backend is stopping: its rules are being removed");
        }
    }

    @Override
    public BackendHealth health() {
        return health;
    }

    /**
     * Stops the watchdog and removes the jumps and chains of every owner, bounded by a few command timeouts.
     * Idempotent.
     */
    @Override
    public void close() {
        closing = true;
        Duration timeout;
        lock.lock();
        try {
            timeout = settings.timeout();
        } finally {
            lock.unlock();
        }
        stopWatchdog(timeout);
        try {
            if (!lock.tryLock(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
                LOG.error("iptables: could not remove our chains, an operation is still running");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            if (!owners.isEmpty()) {
                releaseAllLocked();
                LOG.info("iptables: removed the chains of owners {}", owners.keySet());
                owners.clear();
            }
        } catch (FirewallException e) {
            LOG.error("iptables: could not remove our chains: {}", e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    private void releaseAllLocked() throws FirewallException {
        Tools t = tools();
        restore(t, IptablesScript.flush(owners.values().stream().map(s -> s.chains).toList()));
        SavedRules saved = readJumps(t);
        List<IptablesScript.Release> releases = new ArrayList<>();
        for (OwnerState s : owners.values()) {
            releases.add(new IptablesScript.Release(s.chains, saved.jumps(s.chains)));
        }
        restore(t, IptablesScript.release(releases));
    }

    /**
     * One watchdog round: restores every owner whose chains or jumps were flushed or deleted from outside (the
     * firewall reload problem miniupnpd has, SPEC "known problems" 5). Every round lists the four built-in chains
     * (a reload or a table flush takes our jumps, so that is found within one interval); the full comparison of
     * every rule (three table dumps) runs when they are off, and otherwise at most every
     * {@link #FULL_CHECK_MIN_INTERVAL} and {@link #FULL_CHECK_DUTY} times as long as it takes.
     */
    void watchOnce() {
        long seen;
        Tools t;
        boolean full;
        List<OwnerChains> chains;
        lock.lock();
        try {
            if (owners.isEmpty()) {
                return;
            }
            seen = writes;
            t = tools();
            full = clock.millis() >= nextFullCheckMillis;
            chains = owners.values().stream().map(s -> s.chains).toList();
        } finally {
            lock.unlock();
        }
        try {
            if (!full) {
                // what a reload or a flush of a whole table does first: the jumps to our chains are gone
                Optional<String> problem = jumpProblem(readJumps(t), chains);
                if (problem.isEmpty()) {
                    lock.lock();
                    try {
                        if (writes == seen) {
                            goodRound();
                        }
                    } finally {
                        lock.unlock();
                    }
                    return;
                }
                LOG.debug("iptables watchdog: {}; comparing everything", problem.get());
            }
        } catch (FirewallException e) {
            lock.lock();
            try {
                failed(e, true);
            } finally {
                lock.unlock();
            }
            return;
        }
        long started = System.nanoTime();
        SavedRules saved;
        FirewallException readFailure = null;
        try {
            saved = read(t); // without the lock: batches go on while the tables are dumped
        } catch (FirewallException e) {
            saved = null;
            readFailure = e;
        }
        lock.lock();
        try {
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            nextFullCheckMillis = clock.millis()
                    + Math.max(FULL_CHECK_MIN_INTERVAL.toMillis(), tookMillis * FULL_CHECK_DUTY);
            if (writes != seen || owners.isEmpty()) {
                // we changed the tables while they were read: that proves nothing. Not retried at once: under
                // steady load every dump would meet a change, and dumping back to back starves the batches
                return;
            }
            if (readFailure != null) {
                nextFullCheckMillis = 0; // until a full read works again
                throw readFailure;
            }
            boolean repairedNow = false;
            for (OwnerState s : owners.values()) {
                Optional<String> problem = ReadBack.check(saved, s.chains, s.expected());
                if (problem.isPresent()) {
                    String what = "owner " + s.chains.owner() + ": " + problem.get();
                    LOG.warn("iptables: {}; rules were changed from outside, restoring them", what);
                    setHealth(Health.DEGRADED, Optional.of(what));
                    reconcileLocked(s.chains, s.snapshot(), saved);
                    s.reconciled();
                    repaired(what + "; restored");
                    repairedNow = true;
                }
            }
            if (repairedNow) {
                nextFullCheckMillis = 0; // confirm the repair with a full comparison next round
            } else {
                goodRound();
            }
        } catch (FirewallException e) {
            failed(e, true);
        } catch (RuntimeException e) {
            LOG.error("iptables watchdog round failed", e);
        } finally {
            lock.unlock();
        }
    }

    private void goodRound() {
        readSucceeded();
        if (health.state() == Health.DEGRADED) {
            setHealth(Health.OK, health.lastError());
        }
    }

    /** Lists the four built-in chains that jump to ours ({@code iptables -S CHAIN}: milliseconds at any size). */
    private SavedRules readJumps(Tools t) throws FirewallException {
        String nat = builtin(t, Rule.NAT, "PREROUTING") + builtin(t, Rule.NAT, "POSTROUTING");
        String filter = builtin(t, Rule.FILTER, "FORWARD");
        String mangle = builtin(t, Rule.MANGLE, "POSTROUTING");
        return SavedRules.parse("*" + Rule.NAT + "\n" + nat + "COMMIT\n", "*" + Rule.FILTER + "\n" + filter
                + "COMMIT\n", "*" + Rule.MANGLE + "\n" + mangle + "COMMIT\n");
    }

    private String builtin(Tools t, String table, String chain) throws FirewallException {
        StringBuilder rules = new StringBuilder();
        for (String line : run(Command.of(settings.timeout(), t.command(), "-t", table, "-S", chain)).stdout()
                .split("\n")) {
            if (line.startsWith("-A ")) { // not the policy line
                rules.append(line).append('\n');
            }
        }
        return rules.toString();
    }

    private static Optional<String> jumpProblem(SavedRules jumps, List<OwnerChains> chains) {
        for (OwnerChains c : chains) {
            JumpCounts j = jumps.jumps(c);
            if (!j.exactlyOnce()) {
                return Optional.of("owner " + c.owner() + ": jumps " + j);
            }
        }
        return Optional.empty();
    }

    // --- health

    private void succeeded() {
        failureFromRead = false;
        if (health.state() != Health.OK) {
            LOG.info("iptables backend is healthy again");
            setHealth(Health.OK, health.lastError());
        }
    }

    private void readSucceeded() {
        if (health.state() == Health.FAILED && failureFromRead) {
            failureFromRead = false;
            LOG.info("iptables backend is healthy again");
            setHealth(Health.OK, health.lastError());
        }
    }

    private void repaired(String what) {
        repairs++;
        failureFromRead = false;
        setHealth(Health.DEGRADED, Optional.of(what));
    }

    private void failed(FirewallException e, boolean fromRead) {
        LOG.error("iptables: {}", e.getMessage());
        failureFromRead = fromRead;
        setHealth(Health.FAILED, Optional.of(e.getMessage()));
    }

    private void setHealth(Health state, Optional<String> lastError) {
        BackendHealth h = health;
        health = new BackendHealth(NAME, state, state == h.state() ? h.since() : clock.instant(), lastError, repairs);
    }

    // --- processes

    /** Finds the programs once; AUTO asks {@code iptables -V} (SPEC known problem 6: use the operator's flavour). */
    private Tools tools() {
        if (tools != null) {
            return tools;
        }
        Variant variant = settings.variant();
        Optional<String> version = Optional.empty();
        if (variant == Variant.AUTO) {
            try {
                CommandResult r = run(Command.of(settings.timeout(), "iptables", "-V"));
                version = Optional.of(r.stdout() + r.stderr());
            } catch (FirewallException e) {
                LOG.warn("iptables: cannot ask iptables -V for its variant: {}", e.getMessage());
            }
        }
        Tools chosen = Tools.choose(variant, version, runner::isExecutable);
        if (variant != Variant.AUTO || version.isPresent()) {
            tools = chosen;
            LOG.info("iptables: variant {} uses {} and {}", variant, chosen.restore(), chosen.save());
        }
        return chosen;
    }

    private SavedRules read(Tools t) throws FirewallException {
        String nat = run(Command.of(settings.timeout(), t.save(), "-t", "nat")).stdout();
        String filter = run(Command.of(settings.timeout(), t.save(), "-t", "filter")).stdout();
        String mangle = run(Command.of(settings.timeout(), t.save(), "-t", "mangle")).stdout();
        return SavedRules.parse(nat, filter, mangle);
    }

    private void restore(Tools t, String script) throws FirewallException {
        writes++; // even a failed run may have changed something
        long started = System.nanoTime();
        // --wait: take turns with other users of the xtables lock instead of failing at once.
        run(new Command(List.of(t.restore(), "--noflush", "--wait"), script, settings.timeout()));
        if (LOG.isDebugEnabled()) {
            LOG.debug("iptables: {} took {} ms for {} lines", t.restore(), (System.nanoTime() - started) / 1_000_000,
                    script.chars().filter(c -> c == '\n').count());
        }
    }

    private CommandResult run(Command command) throws FirewallException {
        CommandResult result;
        try {
            result = runner.run(command);
        } catch (CommandException e) {
            throw new FirewallException(e.getMessage(), command.argv(), FirewallException.NO_EXIT, e.stderr(), e);
        }
        if (!result.succeeded()) {
            throw new FirewallException("iptables command failed", command.argv(), result.exitStatus(),
                    result.stderr(), null);
        }
        return result;
    }

    /** One owner's last desired state that the kernel accepted; mutated in place by batches. */
    private static final class OwnerState {
        final OwnerChains chains;
        final Topology topology;
        final Set<PortForward> forwards;
        final Set<HostBinding> bindings;
        final Set<QueueRule> queueRules;
        /** The shard chains in use (and jumped to), one bit each. */
        java.util.BitSet shards;

        OwnerState(OwnerChains chains, FirewallState state) {
            this.chains = chains;
            this.topology = state.topology();
            this.forwards = new HashSet<>(state.forwards());
            this.bindings = new HashSet<>(state.bindings());
            this.queueRules = Set.copyOf(state.queueRules());
            reconciled();
        }

        /** After a reconcile of {@link #snapshot()}: exactly the shards of the forwards are in use. */
        void reconciled() {
            shards = OwnerChains.shardMask(forwards);
        }

        FirewallState snapshot() {
            return new FirewallState(topology, forwards, bindings, queueRules);
        }

        RuleCounts expected() {
            return IptablesScript.expectedCounts(topology, forwards.size(), bindings.size(), queueRules.size(),
                    shards.cardinality());
        }
    }
}
