// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

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
import natpmp.exec.ProcessRunner;
import natpmp.nftables.internal.core.Claims;
import natpmp.nftables.internal.core.Delta;
import natpmp.nftables.internal.core.NftRuleset;
import natpmp.nftables.internal.core.NftScript;
import natpmp.nftables.internal.core.NftSettings;
import natpmp.nftables.internal.core.OwnerNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nftables backend without OSGi: applies {@link NftScript} transactions and reads back in JSON through an
 * {@link NftEngine}: libnftables in-process or one {@code nft -f -} / {@code nft -j} process per call.
 *
 * <p>Every kernel change (callers' and the watchdog's repairs) runs under one lock, so the per-owner state and
 * the kernel move together. An owner's state changes only after the kernel accepted the transaction, so nothing
 * is believed installed that the kernel refused. The watchdog's full listing of a large table runs without the
 * lock when a concurrent lister is given, and is judged only if none of our transactions happened meanwhile.
 * {@link #health()} never blocks.
 */
public final class NftablesFirewall implements FirewallBackend, AutoCloseable {
    /** The value of {@link FirewallBackend#BACKEND_PROPERTY}. */
    public static final String NAME = "nftables";
    /** The program. */
    public static final String NFT = NftProcessEngine.NFT;

    /**
     * The full comparison of every element runs at most this often; the cheap check of the chains (which an
     * {@code nft flush ruleset} or a deleted table fails) runs every round.
     */
    static final Duration FULL_CHECK_MIN_INTERVAL = Duration.ofSeconds(10);
    /** After a full comparison the watchdog waits at least this many times as long as it took. */
    static final int FULL_CHECK_DUTY = 20;
    private static final Logger LOG = LoggerFactory.getLogger(NftablesFirewall.class);

    private final InstantSource clock;
    /** Lists for the watchdog's full check without the lock ({@code nft} processes), or null to list under it. */
    private final NftEngine lister;
    /**
     * Held from a listing to the end of its parse: a listing is valid only until the next one on the same engine,
     * and the watchdog lists without {@link #lock}.
     */
    private final ReentrantLock listLock = new ReentrantLock();
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicReference<ScheduledExecutorService> watchdog = new AtomicReference<>();

    // guarded by lock
    private final Map<String, OwnerState> owners = new TreeMap<>();
    private NftEngine engine;
    private boolean closed;
    private NftSettings settings;
    private long repairs;
    /** When the next full comparison is due (clock millis); 0 = at the next round. */
    private long nextFullCheckMillis;
    /** Counts our transactions, so the watchdog can tell whether a listing taken without the lock is current. */
    private long writes;
    /** Whether the current FAILED state came from a read, which a good read clears. */
    private boolean failureFromRead;

    private volatile BackendHealth health;
    /** Set when {@link #close()} begins: batches are refused at once instead of waiting behind the removal. */
    private volatile boolean closing;

    /**
     * With one {@code nft} process per call.
     *
     * @param runner   runs {@code nft}
     * @param settings the validated configuration
     * @param clock    for the {@link BackendHealth#since()} stamps
     */
    public NftablesFirewall(ProcessRunner runner, NftSettings settings, InstantSource clock) {
        this(new NftProcessEngine(runner), new NftProcessEngine(runner), settings, clock);
    }

    /**
     * @param engine   talks to nftables; this firewall owns it from now on and closes it in {@link #close()}
     * @param settings the validated configuration
     * @param clock    for the {@link BackendHealth#since()} stamps
     */
    public NftablesFirewall(NftEngine engine, NftSettings settings, InstantSource clock) {
        this(engine, null, settings, clock);
    }

    /**
     * @param engine   talks to nftables; this firewall owns it from now on and closes it in {@link #close()}
     * @param lister   lists the table for the watchdog's full check while transactions go on; null: {@code engine}
     *                 itself where it {@linkplain NftEngine#listsConcurrently() can}, else under the lock (which
     *                 holds up batches for as long as a large listing takes)
     * @param settings the validated configuration
     * @param clock    for the {@link BackendHealth#since()} stamps
     */
    public NftablesFirewall(NftEngine engine, NftEngine lister, NftSettings settings, InstantSource clock) {
        this.engine = engine;
        this.lister = lister;
        this.settings = settings;
        this.clock = clock;
        this.health = new BackendHealth(NAME, Health.OK, clock.instant(), Optional.empty(), 0);
    }

    /** Starts the watchdog (unless its interval is 0). */
    public void start() {
        schedule(settingsLocked().watchInterval());
    }

    private NftSettings settingsLocked() {
        lock.lock();
        try {
            return settings;
        } finally {
            lock.unlock();
        }
    }

    private void schedule(Duration interval) {
        if (interval.isZero()) {
            return;
        }
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "natpmp-nftables-watchdog");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::watchOnce, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        ScheduledExecutorService previous = watchdog.getAndSet(executor);
        if (previous != null) {
            previous.shutdownNow();
        }
    }

    private void stopWatchdog(Duration wait) {
        ScheduledExecutorService executor = watchdog.getAndSet(null);
        if (executor != null) {
            executor.shutdownNow(); // interrupts a running check; the runner then kills its child
            try {
                if (!executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("nftables watchdog did not stop within {} ms", wait.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Applies new settings in place: the timeout at once, a new watchdog interval by rescheduling, a new
     * table name by deleting the old table and writing every owner into the new one.
     *
     * @param next the new settings
     */
    public void update(NftSettings next) {
        boolean reschedule;
        lock.lock();
        try {
            NftSettings previous = settings;
            reschedule = !previous.watchInterval().equals(next.watchInterval());
            settings = next;
            if (!previous.table().equals(next.table())) {
                moveTable(previous.table());
            }
        } finally {
            lock.unlock();
        }
        if (reschedule) {
            stopWatchdog(next.timeout());
            schedule(next.watchInterval());
        }
    }

    /**
     * Switches to another engine between two transactions and closes the previous one. Both reach the same
     * kernel tables (same network namespace), so the table stays as it is.
     *
     * @param next the new engine, owned by this firewall from now on
     */
    public void useEngine(NftEngine next) {
        NftEngine previous;
        lock.lock();
        try {
            previous = engine;
            engine = next;
            writes++; // a listing in progress on the previous engine proves nothing
        } finally {
            lock.unlock();
        }
        if (previous != next) {
            previous.close(); // its own lock: waits for nothing, no call of ours uses it any more
        }
    }

    /** @return the current engine's name: {@code library} or {@code process} */
    public String engineName() {
        lock.lock();
        try {
            return engine.name();
        } finally {
            lock.unlock();
        }
    }

    private void moveTable(String old) {
        try {
            nft(NftScript.deleteTable(old));
        } catch (FirewallException e) {
            LOG.error("nftables: could not delete table ip {} while moving to ip {}: {}", old, settings.table(),
                    e.getMessage());
        }
        if (!owners.isEmpty()) {
            try {
                replaceAllLocked(null);
                succeeded();
            } catch (FirewallException e) {
                failed(e, false);
            }
        }
        LOG.info("nftables: table is now ip {}", settings.table());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void reconcile(String owner, FirewallState desired) throws FirewallException {
        OwnerNames names = OwnerNames.of(owner);
        NftScript.requireValid(desired);
        refuseWhileClosing();
        lock.lock();
        try {
            // First owner of this run: start from an empty table, whatever an earlier run left behind.
            boolean fresh = owners.isEmpty();
            Set<String> all = new HashSet<>(owners.keySet());
            all.add(owner);
            try {
                nft(NftScript.replace(settings.table(), fresh, List.of(new NftScript.Section(names, desired)), all));
            } catch (FirewallException e) {
                throw desired.queueRules().isEmpty() ? e : explainQueue(e);
            }
            owners.put(owner, new OwnerState(names, desired));
            succeeded();
            LOG.info("nftables: owner {} reconciled to {} forwards, {} bindings and {} queue rules", owner,
                    desired.forwards().size(), desired.bindings().size(), desired.queueRules().size());
        } catch (FirewallException e) {
            failed(e, false);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void apply(String owner, FirewallChange change) throws FirewallException {
        OwnerNames names = OwnerNames.of(owner);
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
            // O(size of the change): copying and re-validating a 10,000-forward state here cost milliseconds
            // per single-element batch, far more than libnftables takes for the batch itself.
            state.claims.check(delta);
            try {
                nft(NftScript.change(settings.table(), names, delta));
                succeeded();
            } catch (FirewallException e) {
                if (e.exitStatus() == FirewallException.NO_EXIT) {
                    failed(e, false);
                    throw e;
                }
                rebuildAfterRefusedBatch(owner, state.next(delta), e);
            }
            delta.removeBindings().forEach(state.bindings::remove);
            state.bindings.addAll(delta.addBindings());
            state.claims.apply(delta); // the forwards too: they are a view of the claims
            LOG.info("nftables: owner {}: added {} forwards and {} bindings, removed {} forwards and {} bindings",
                    owner, delta.addForwards().size(), delta.addBindings().size(), delta.removeForwards().size(),
                    delta.removeBindings().size());
            if (LOG.isDebugEnabled()) {
                delta.removeForwards().forEach(f -> LOG.debug("nftables: owner {}: removed {}", owner, f));
                delta.addForwards().forEach(f -> LOG.debug("nftables: owner {}: added {}", owner, f));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A kernel built without the nft queue expression refuses the whole transaction with ENOENT at the
     * {@code queue} statement; say so plainly (the consumer may then do without queue rules).
     */
    private static FirewallException explainQueue(FirewallException e) {
        String text = e.getMessage() + " " + e.stderr();
        if (!text.contains("No such file or directory") || !text.contains("queue")) {
            return e;
        }
        return new FirewallException("the kernel refused the queue rule: it has no nft queue expression"
                + " (CONFIG_NFT_QUEUE, module nft_queue)", e.command(), e.exitStatus(), e.stderr(), e);
    }

    /**
     * The kernel refused a batch that matches our state (an element to delete is gone, the table was flushed):
     * our table was changed from outside. Rewrite the whole table from the owners' states instead, with this
     * owner at its next state.
     */
    private void rebuildAfterRefusedBatch(String owner, FirewallState next, FirewallException refused)
            throws FirewallException {
        try {
            replaceAllLocked(new NftScript.Section(OwnerNames.of(owner), next));
        } catch (FirewallException e) {
            refused.addSuppressed(e);
            failed(refused, false);
            throw refused;
        }
        repaired("owner " + owner + ": a batch was refused (" + refused.getMessage()
                + "); rewrote the table from the whole state");
    }

    @Override
    public FirewallState installed(String owner) throws FirewallException {
        OwnerNames names = OwnerNames.of(owner);
        lock.lock();
        try {
            NftRuleset ruleset = readTable();
            readSucceeded();
            OwnerState state = owners.get(owner);
            return ruleset.installed(names, Optional.ofNullable(state).map(s -> s.topology));
        } catch (FirewallException e) {
            failed(e, true);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void release(String owner) throws FirewallException {
        OwnerNames names = OwnerNames.of(owner);
        lock.lock();
        try {
            Set<String> remaining = new HashSet<>(owners.keySet());
            remaining.remove(owner);
            nft(NftScript.release(settings.table(), names, remaining));
            owners.remove(owner);
            succeeded();
            LOG.info("nftables: owner {} released, its chains, maps and sets are gone", owner);
        } catch (FirewallException e) {
            failed(e, false);
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private void refuseWhileClosing() throws FirewallException {
        if (closing) {
            throw new FirewallException("the nftables backend is stopping: its rules are being removed");
        }
    }

    @Override
    public BackendHealth health() {
        return health;
    }

    /**
     * Stops the watchdog, deletes our table and closes the engine, bounded by a few command timeouts. Idempotent.
     */
    @Override
    public void close() {
        closing = true;
        Duration timeout = settingsLocked().timeout();
        stopWatchdog(timeout);
        try {
            if (!lock.tryLock(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
                LOG.error("nftables: could not delete our table, an operation is still running");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            if (closed) {
                return;
            }
            nft(NftScript.deleteTable(settings.table()));
            LOG.info("nftables: deleted table ip {} (owners {})", settings.table(), owners.keySet());
            owners.clear();
        } catch (FirewallException e) {
            LOG.error("nftables: could not delete our table: {}", e.getMessage());
        } finally {
            if (!closed) {
                closed = true;
                engine.close();
            }
            lock.unlock();
        }
    }

    /** Rewrites the whole table from scratch in one transaction; {@code override} replaces one owner's state. */
    private void replaceAllLocked(NftScript.Section override) throws FirewallException {
        List<NftScript.Section> sections = new ArrayList<>();
        Set<String> all = new HashSet<>(owners.keySet());
        for (OwnerState s : owners.values()) {
            if (override == null || !override.names().equals(s.names)) {
                sections.add(new NftScript.Section(s.names, s.snapshot()));
            }
        }
        if (override != null) {
            sections.add(override);
            all.add(override.names().owner());
        }
        nft(NftScript.replace(settings.table(), true, sections, all));
    }

    /**
     * One watchdog round: a cheap check of the chains every round (an external {@code nft flush ruleset} or a
     * deleted table is found within one interval), the full element comparison at most every
     * {@link #FULL_CHECK_MIN_INTERVAL} and {@link #FULL_CHECK_DUTY} times as long as it takes; anything missing
     * rewrites the whole table (SPEC known problems 5).
     */
    void watchOnce() {
        long seen;
        String table;
        Duration timeout;
        NftEngine with;
        lock.lock();
        try {
            if (owners.isEmpty()) {
                return;
            }
            List<OwnerNames> names = owners.values().stream().map(s -> s.names).toList();
            Optional<String> problem = readChains().checkChains(names);
            if (problem.isPresent() || clock.millis() < nextFullCheckMillis) {
                judge(problem);
                return;
            }
            with = lister != null ? lister : engine.listsConcurrently() ? engine : null;
            if (with == null) {
                long started = System.nanoTime();
                NftRuleset ruleset = readTable(engine, settings.table(), settings.timeout());
                fullCheckDone(started);
                judge(fullCheck(ruleset));
                return;
            }
            seen = writes;
            table = settings.table();
            timeout = settings.timeout();
        } catch (FirewallException e) {
            failed(e, true);
            return;
        } catch (RuntimeException e) {
            LOG.error("nftables watchdog round failed", e);
            return;
        } finally {
            lock.unlock();
        }
        // the full listing of a large table takes a while: it runs while batches go on
        long started = System.nanoTime();
        NftRuleset ruleset = null;
        FirewallException readFailure = null;
        try {
            ruleset = readTable(with, table, timeout);
        } catch (FirewallException e) {
            readFailure = e;
        } catch (RuntimeException e) {
            LOG.error("nftables watchdog listing failed", e);
            return;
        }
        lock.lock();
        try {
            fullCheckDone(started);
            if (writes != seen || owners.isEmpty() || !table.equals(settings.table())) {
                // we changed the table while it was listed: that proves nothing. Not retried at once: under
                // steady load every listing would meet a change, and listing back to back starves the batches
                return;
            }
            if (readFailure != null) {
                throw readFailure;
            }
            judge(fullCheck(ruleset));
        } catch (FirewallException e) {
            failed(e, true);
        } catch (RuntimeException e) {
            LOG.error("nftables watchdog round failed", e);
        } finally {
            lock.unlock();
        }
    }

    /** Compares a full listing with every owner's state (under the lock). */
    private Optional<String> fullCheck(NftRuleset ruleset) {
        List<String> problems = new ArrayList<>();
        for (OwnerState s : owners.values()) {
            ruleset.check(s.names, s.snapshot()).ifPresent(p -> problems.add("owner " + s.names.owner() + ": " + p));
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    /** Repairs what the watchdog found, or records a good round (under the lock). */
    private void judge(Optional<String> problem) throws FirewallException {
        if (problem.isPresent()) {
            String what = "table ip " + settings.table() + ": " + problem.get();
            LOG.warn("nftables: {}; it was changed from outside, restoring it", what);
            setHealth(Health.DEGRADED, Optional.of(what));
            replaceAllLocked(null);
            repaired(what + "; restored");
            nextFullCheckMillis = 0; // confirm the repair with a full comparison next round
        } else {
            readSucceeded();
            if (health.state() == Health.DEGRADED) {
                setHealth(Health.OK, health.lastError());
            }
        }
    }

    /** Schedules the next full comparison by what this one cost (under the lock). */
    private void fullCheckDone(long startedNanos) {
        long tookMillis = (System.nanoTime() - startedNanos) / 1_000_000;
        nextFullCheckMillis = clock.millis() + Math.max(FULL_CHECK_MIN_INTERVAL.toMillis(), tookMillis * FULL_CHECK_DUTY);
    }

    // --- health

    private void succeeded() {
        failureFromRead = false;
        if (health.state() != Health.OK) {
            LOG.info("nftables backend is healthy again");
            setHealth(Health.OK, health.lastError());
        }
    }

    private void readSucceeded() {
        if (health.state() == Health.FAILED && failureFromRead) {
            failureFromRead = false;
            LOG.info("nftables backend is healthy again");
            setHealth(Health.OK, health.lastError());
        }
    }

    private void repaired(String what) {
        repairs++;
        failureFromRead = false;
        setHealth(Health.DEGRADED, Optional.of(what));
    }

    private void failed(FirewallException e, boolean fromRead) {
        LOG.error("nftables: {}", e.getMessage());
        failureFromRead = fromRead;
        setHealth(Health.FAILED, Optional.of(e.getMessage()));
    }

    private void setHealth(Health state, Optional<String> lastError) {
        BackendHealth h = health;
        health = new BackendHealth(NAME, state, state == h.state() ? h.since() : clock.instant(), lastError, repairs);
    }

    // --- engine

    private void nft(String script) throws FirewallException {
        writes++; // even a refused transaction: the watchdog's listing in progress is then not trusted
        engine.run(script, settings.timeout());
    }

    private NftRuleset readTable() throws FirewallException {
        listLock.lock();
        try {
            return readTableFully();
        } finally {
            engine.forgetListing();
            listLock.unlock();
        }
    }

    private NftRuleset readTableFully() throws FirewallException {
        List<String> words = List.of("list", "table", "ip", settings.table());
        CharSequence json;
        try {
            json = engine.list(words, settings.timeout());
        } catch (FirewallException e) {
            if (e.exitStatus() != FirewallException.NO_EXIT && e.stderr().contains("No such file or directory")) {
                return NftRuleset.absent();
            }
            throw e;
        }
        return parse(words, json);
    }

    /** The watchdog's listing: elements only as fingerprints, so its memory does not grow with the table. */
    private NftRuleset readTable(NftEngine with, String table, Duration timeout) throws FirewallException {
        listLock.lock();
        try {
            return readTableListLocked(with, table, timeout);
        } finally {
            with.forgetListing();
            listLock.unlock();
        }
    }

    private static NftRuleset readTableListLocked(NftEngine with, String table, Duration timeout)
            throws FirewallException {
        List<String> words = List.of("list", "table", "ip", table);
        CharSequence json;
        try {
            json = with.list(words, timeout);
        } catch (FirewallException e) {
            if (e.exitStatus() != FirewallException.NO_EXIT && e.stderr().contains("No such file or directory")) {
                return NftRuleset.absent();
            }
            throw e;
        }
        try {
            return NftRuleset.parseFingerprints(json, table);
        } catch (IllegalArgumentException e) {
            throw new FirewallException("cannot read the output of nft -j " + String.join(" ", words) + " ("
                    + with.name() + "): " + e.getMessage(), List.of(), FirewallException.NO_EXIT, "", e);
        }
    }

    private NftRuleset readChains() throws FirewallException {
        // Lists chain names only: a few milliseconds however many elements the maps hold.
        List<String> words = List.of("list", "chains", "ip");
        listLock.lock();
        try {
            return parse(words, engine.list(words, settings.timeout()));
        } finally {
            listLock.unlock();
        }
    }

    /** Parses at once: a listing is valid only until the engine's next call. */
    private NftRuleset parse(List<String> words, CharSequence json) throws FirewallException {
        try {
            return NftRuleset.parse(json, settings.table());
        } catch (IllegalArgumentException e) {
            throw new FirewallException("cannot read the output of nft -j " + String.join(" ", words) + " ("
                    + engine.name() + "): " + e.getMessage(), List.of(), FirewallException.NO_EXIT, "", e);
        }
    }

    /** One owner's last desired state that the kernel accepted; mutated in place by batches. */
    private static final class OwnerState {
        final OwnerNames names;
        final Topology topology;
        final Set<PortForward> forwards;
        final Set<HostBinding> bindings;
        final Set<QueueRule> queueRules;
        final Claims claims;

        OwnerState(OwnerNames names, FirewallState state) {
            this.names = names;
            this.topology = state.topology();
            this.bindings = new HashSet<>(state.bindings());
            this.queueRules = Set.copyOf(state.queueRules());
            this.claims = Claims.of(state);
            this.forwards = claims.forwards(); // one copy of the forwards, not two
        }

        /** @return this state with {@code delta} applied, leaving this one as it is */
        FirewallState next(Delta delta) {
            Set<PortForward> f = new HashSet<>(forwards);
            Set<HostBinding> b = new HashSet<>(bindings);
            delta.applyTo(f, b);
            return new FirewallState(topology, f, b, queueRules);
        }

        FirewallState snapshot() {
            return new FirewallState(topology, forwards, bindings, queueRules);
        }
    }
}
