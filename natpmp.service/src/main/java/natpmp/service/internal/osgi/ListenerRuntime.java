// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.LanNetwork;
import natpmp.api.Mapping;
import natpmp.api.MappingSnapshot;
import natpmp.api.Origin;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.Topology;
import natpmp.service.internal.core.ChangeAccumulator;
import natpmp.service.internal.core.Completion;
import natpmp.service.internal.core.Epoch;
import natpmp.service.internal.core.GatewayPorts;
import natpmp.service.internal.core.InternalChange;
import natpmp.service.internal.core.Lease;
import natpmp.service.internal.core.LeaseCodec;
import natpmp.service.internal.core.LeaseFile;
import natpmp.service.internal.core.LeaseFile.StoredLease;
import natpmp.service.internal.core.MalformedPacketException;
import natpmp.service.internal.core.MappingKey;
import natpmp.service.internal.core.NatPmpCodec;
import natpmp.service.internal.core.NatPmpEngine;
import natpmp.service.internal.core.Outcome;
import natpmp.service.internal.core.Request;
import natpmp.service.internal.net.Interfaces;
import natpmp.service.internal.net.LanSocket;
import natpmp.service.internal.net.LeaseStore;
import natpmp.service.internal.net.ProcNetPorts;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The running NAT-PMP listener: sockets, the event loop, group commit, announcements, the external address,
 * expiry and the lease file.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@code natpmp-recv-<address>}, one per LAN socket: blocking receive. It answers what needs no mapping
 * table itself (external address requests, unsupported versions and opcodes) from an immutable
 * {@link FastState}, and queues mapping requests, already decoded, for the loop; one loop task drains the
 * whole queue, so a burst of requests costs one wake-up and becomes one firewall batch.</li>
 * <li>{@code natpmp-loop}: owns the {@link NatPmpEngine}, the sockets (for sending), every timer and all
 * mutable state of this class. Nothing else touches them.</li>
 * <li>{@code natpmp-commit}: runs one firewall job at a time (apply, reconcile) and then writes the lease
 * file; reports back to the loop.</li>
 * <li>{@code natpmp-swap}: reconciles a newly bound backend and releases backends no longer used, so that
 * neither holds up the batches of the commit thread.</li>
 * </ul>
 *
 * <h2>Backend swap (make before break)</h2>
 * When a backend replaces one that holds every mapping, the old one becomes the <em>standby</em>: while the swap
 * thread installs the whole table in the new backend, batches keep going to the standby, so clients are answered
 * as fast as ever with their rule in the kernel. Every change sent to the standby meanwhile is collected; when
 * the new backend holds the table, its first batch carries those changes (a catch-up), and only once that has
 * succeeded is the standby released (on the swap thread). A batch the standby refuses is not failed but queued
 * again for the new backend. Anything unusual during a swap (a topology change, the standby going away, a second
 * swap) makes batches wait for the new backend instead.
 *
 * <h2>Group commit</h2>
 * Requests that change the kernel are queued; when no job is running the loop turns the whole queue into one
 * job (one {@link FirewallChange}, or a full {@link FirewallBackend#reconcile} when the backend is new, the
 * topology changed or a job failed). While a job runs, the loop keeps answering renewals from memory and
 * queues new changes for the next job. A client gets its reply only after the job holding its change has
 * succeeded <em>and</em> the journal line naming its mapping has been written: so a {@code kill -9} right
 * after a reply cannot lose that mapping. Renewals, which only move an expiry, are saved within about
 * {@link #LEASE_DEBOUNCE_MILLIS}; a crash in that window restores the mapping with its previous expiry.
 *
 * <h2>Lease persistence</h2>
 * A committed batch appends one journal line per changed mapping ({@link LeaseCodec}); the whole table is
 * written only when the journal has grown past twice the table (compaction: new snapshot, new journal), on a
 * new epoch and at shutdown. So the cost per batch is O(changes). Journal lines reach the page cache before
 * the replies leave (enough for {@code kill -9}); the commit thread forces them to disk about once a second.
 */
final class ListenerRuntime implements AutoCloseable {
    /** Owner name of our state in the firewall backend. */
    static final String OWNER = "natpmp";
    /** Copies of each announcement (RFC 6886 §3.2.1, N23). */
    static final int ANNOUNCEMENTS = 10;
    /** Gap after the first announcement; it doubles after each copy. */
    static final long FIRST_GAP_MILLIS = 250;
    /** How long renewals may wait before they are journaled, and how often the journal is forced to disk. */
    static final long LEASE_DEBOUNCE_MILLIS = 1000;
    /** The journal is compacted when it holds more lines than twice the table and at least this many. */
    private static final long COMPACT_MIN_LINES = 4096;
    /** Delay before a failed compaction is tried again. */
    private static final long COMPACT_RETRY_MILLIS = 10_000;
    /**
     * While the swap thread works on a backend (filling the new one, emptying the old one), batches to the other
     * backend are at least this far apart. iptables-nft starts its transaction over whenever another nftables
     * transaction commits between its read of the ruleset and its commit; at hundreds of commits a second it never
     * gets through. A pause of this length between our commits lets it finish, at the price of at most this much
     * extra wait for the requests of those moments.
     */
    private static final long SWAP_BATCH_SPACING_MILLIS = 50;
    /**
     * A job of the swap thread that has run this long gets the kernel to itself: batches wait until it ends.
     * Spacing is enough for small jobs: when another commit got in first, iptables-nft only reads the ruleset
     * again and resends the transaction it built, which fits between our commits while the tables are small
     * (a swap of 1,000 mappings takes 0.1–0.4 s that way and no request waits). At 10,000 mappings reading the
     * ruleset alone takes longer than the spacing, so without this the job would never finish. Waiting costs
     * the requests of those moments at most the job's remaining time.
     */
    static final long SWAP_EXCLUSIVE_AFTER_MILLIS = 500;
    /** How often the release of a backend no longer used is tried, and how long apart. */
    private static final int RELEASE_ATTEMPTS = 3;
    private static final long RELEASE_RETRY_MILLIS = 2000;
    /** How long renewals answered by a receive thread may wait before the loop moves their expiry. */
    private static final long RENEWAL_REPORT_DELAY_MILLIS = 20;
    /** How often at most the heap is asked whether it has room for more mappings. */
    private static final long HEAP_CHECK_MILLIS = 100;
    /** Shortest time between two collections the listener asks for to see whether memory is free again. */
    private static final long COLLECT_INTERVAL_MILLIS = 10_000;
    /** Mapping requests handled per loop task before timers get a turn. */
    private static final int DRAIN_LIMIT = 512;
    private static final long MIN_RETRY_MILLIS = 1000;
    private static final long MAX_RETRY_MILLIS = 60_000;
    private static final long MALFORMED_LOG_WINDOW_MILLIS = 10_000;
    private static final int MALFORMED_LOG_PER_WINDOW = 10;

    private static final Logger LOG = LoggerFactory.getLogger(ListenerRuntime.class);

    /** Looks up the external address of an interface. */
    @FunctionalInterface
    interface ExternalAddressSource {
        /**
         * @param interfaceName the external interface
         * @return its address, empty while none
         */
        Optional<Inet4Address> lookup(String interfaceName);
    }

    /**
     * What production takes from the host; tests replace parts of it.
     *
     * @param serverPort        the port to bind (5351; 0 in tests)
     * @param announceTarget    where announcements go (224.0.0.1:5350)
     * @param addressPollMillis how often the external address is checked
     * @param monotonicMillis   the monotonic clock
     * @param wallMillis        the wall clock (lease file only)
     * @param externalAddresses external address lookup
     * @param gatewayPorts      ports the gateway uses (N32)
     * @param random            randomness for port choice
     * @param heapFull          whether the heap is too full of live data for more mappings
     * @param swapExclusiveAfterMillis how long a job of the swap thread runs beside batches before they wait
     *                          for it ({@value #SWAP_EXCLUSIVE_AFTER_MILLIS})
     */
    record Params(int serverPort, InetSocketAddress announceTarget, long addressPollMillis, LongSupplier monotonicMillis,
            LongSupplier wallMillis, ExternalAddressSource externalAddresses, GatewayPorts gatewayPorts,
            RandomGenerator random, BooleanSupplier heapFull, long swapExclusiveAfterMillis) {

        Params(int serverPort, InetSocketAddress announceTarget, long addressPollMillis, LongSupplier monotonicMillis,
                LongSupplier wallMillis, ExternalAddressSource externalAddresses, GatewayPorts gatewayPorts,
                RandomGenerator random) {
            this(serverPort, announceTarget, addressPollMillis, monotonicMillis, wallMillis, externalAddresses,
                    gatewayPorts, random, () -> false, SWAP_EXCLUSIVE_AFTER_MILLIS);
        }

        /** The same with another {@link #swapExclusiveAfterMillis}. */
        Params withSwapExclusiveAfter(long millis) {
            return new Params(serverPort, announceTarget, addressPollMillis, monotonicMillis, wallMillis,
                    externalAddresses, gatewayPorts, random, heapFull, millis);
        }

        static Params production() {
            LongSupplier mono = () -> System.nanoTime() / 1_000_000;
            return new Params(NatPmpCodec.SERVER_PORT,
                    new InetSocketAddress(allHosts(), NatPmpCodec.CLIENT_PORT), 1000, mono,
                    System::currentTimeMillis, Interfaces::firstIpv4, new ProcNetPorts(Path.of("/proc/net"), mono),
                    new SecureRandom(), new natpmp.service.internal.net.HeapWatch(), SWAP_EXCLUSIVE_AFTER_MILLIS);
        }

        private static Inet4Address allHosts() {
            return natpmp.service.internal.core.Addresses.parse("224.0.0.1");
        }
    }

    private record Destination(LanSocket socket, InetSocketAddress sender) {
    }

    private record AdminOp(CompletableFuture<Integer> future, int count) {
    }

    /**
     * A firewall and/or lease job for the commit thread.
     *
     * @param carried    journal lines already committed (no backend, renewals): written whatever happens
     * @param lines      journal lines of this job's tickets: written only when the firewall part succeeded
     * @param compaction a new snapshot to write instead of the lines, when the firewall part succeeded
     * @param forceSync  force the journal to disk now (the once-a-second tick)
     * @param viaStandby the batch goes to the standby backend while the new one is being reconciled
     */
    private record Job(FirewallBackend backend, FirewallState state, FirewallChange change, List<Long> tickets,
            String carried, String lines, Optional<Compaction> compaction, long generation, boolean forceSync,
            boolean viaStandby) {
    }

    /** Everything needed to format a snapshot off the loop thread (leases are immutable). */
    private record Compaction(List<Lease> leases, long nowMillis, long wallMillis, long epochStartMillis,
            long journal) {
        String text() {
            List<StoredLease> stored = new ArrayList<>(leases.size());
            for (Lease l : leases) {
                if (!l.isStatic()) {
                    stored.add(new StoredLease(l.key(), l.externalPort(), l.lifetime(),
                            wallMillis + (l.expiresAt() - nowMillis)));
                }
            }
            return LeaseCodec.format(new LeaseFile(wallMillis - (nowMillis - epochStartMillis), stored, journal));
        }
    }

    /**
     * What the receive threads need to answer on their own; replaced as a whole by the loop (N15: the LAN
     * subnets; N26: nothing is answered while disabled).
     */
    private record FastState(boolean enabled, List<LanNetwork> lans, Optional<Inet4Address> externalAddress,
            long epochStartMillis, boolean backendBound) {
        boolean fromLan(Inet4Address client) {
            for (LanNetwork lan : lans) {
                if (lan.contains(client)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** What a receive thread hands to the loop, in arrival order. */
    private sealed interface Inbound permits MapInbound, RenewedInbound {
    }

    /** A decoded mapping request for the loop to handle and answer. */
    private record MapInbound(LanSocket socket, InetSocketAddress sender, Inet4Address client,
            Request.MapRequest request) implements Inbound {
    }

    /** A renewal the receive thread has answered already: the loop moves the expiry. */
    private record RenewedInbound(MappingKey key, int port, long granted, long answeredAt) implements Inbound {
    }

    private final Params params;
    private final Optional<LeaseStore> leaseStore;
    private final ScheduledThreadPoolExecutor loop;
    private final ExecutorService commit;
    private final ExecutorService swap;
    private final NatPmpEngine engine;

    // ---- owned by the loop thread (set up in the constructor before any task runs) ----
    private ListenerSettings settings;
    private List<LanNetwork> lans;
    private final Map<Inet4Address, LanSocket> sockets = new LinkedHashMap<>();
    private FirewallBackend backend;
    private final List<FirewallBackend> toRelease = new ArrayList<>();
    /** Backends whose release runs on the swap thread. */
    private final List<FirewallBackend> releasing = new ArrayList<>();
    /** Failed releases so far, per backend still to release. */
    private final Map<FirewallBackend, Integer> releaseAttempts = new HashMap<>();
    /** The previous backend, complete, taking batches while {@link #swapTarget} is reconciled. */
    private FirewallBackend standby;
    /** The backend being reconciled on the swap thread, null when none. */
    private FirewallBackend swapTarget;
    private long swapGeneration;
    /** Changes sent to the standby since the swap started: the new backend's catch-up. */
    private final ChangeAccumulator sinceSwap = new ChangeAccumulator();
    /** The new backend holds the table as of the swap start; its next batch must carry {@link #sinceSwap}. */
    private boolean catchUpDue;
    private Optional<BackendHealth> health = Optional.empty();
    /** When the backend in use last changed (loop thread writes). */
    private Optional<Instant> lastSwap = Optional.empty();
    private final List<Long> queuedTickets = new ArrayList<>();
    private final ChangeAccumulator queuedChange = new ChangeAccumulator();
    private final Map<Long, FirewallChange> ticketChanges = new HashMap<>();
    private final Map<Long, String> reasons = new HashMap<>();
    private final Map<Long, Destination> destinations = new HashMap<>();
    private final Map<Long, AdminOp> adminOps = new HashMap<>();
    private boolean inFlight;
    private long heapCheckedAt = Long.MIN_VALUE / 2;
    private long collectedAt = Long.MIN_VALUE / 2;
    private int mappingsWhenLow;
    /** When the last firewall job was submitted (monotonic millis), for the spacing during swaps. */
    private long lastSubmitMillis = Long.MIN_VALUE / 2;
    /** When the swap thread was last given a reconcile or a release (monotonic millis). */
    private long swapJobSubmittedMillis;
    private boolean swapExclusiveLogged;
    private ScheduledFuture<?> spacingTask;
    private long reconcileGeneration = 1;
    private long reconciledGeneration;
    private final StringBuilder journalBacklog = new StringBuilder();
    private long journalLines;
    private long journalGeneration;
    private boolean compactDue;
    private long compactNotBefore;
    private boolean draining;
    private long retryDelay = MIN_RETRY_MILLIS;
    private ScheduledFuture<?> retryTask;
    private ScheduledFuture<?> leaseTask;
    /** Commit thread only: when the journal was last forced. */
    private long lastSyncMillis;
    private ScheduledFuture<?> burstTask;
    private int burstSent;
    private ScheduledFuture<?> expiryTask;
    private long expiryAt = Long.MAX_VALUE;
    private ScheduledFuture<?> pollTask;
    private final Object malformedLock = new Object();
    private long malformedWindowStart; // guarded by malformedLock
    private int malformedLogged; // guarded by malformedLock
    private final ConcurrentLinkedQueue<Inbound> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = safe(this::drainInbox);
    private final AtomicBoolean lazyDrainScheduled = new AtomicBoolean();
    private final Runnable lazyDrainTask = safe(() -> {
        lazyDrainScheduled.set(false);
        drainInbox();
    });
    private volatile FastState fast;
    private boolean closed;

    private volatile MappingSnapshot snapshot;
    private final AtomicBoolean snapshotStale = new AtomicBoolean();
    private volatile Thread loopThread;

    /**
     * Resolves the LAN entries, restores the lease file, binds the sockets and starts the threads.
     *
     * @param settings  validated settings
     * @param leaseFile the lease file, empty when the framework gives no data area
     * @param params    host access
     * @throws IllegalArgumentException if a LAN entry cannot be used
     * @throws IllegalStateException    if a LAN socket cannot be bound
     */
    ListenerRuntime(ListenerSettings settings, Optional<Path> leaseFile, Params params) {
        this.params = params;
        this.settings = settings;
        this.lans = Interfaces.resolveLans(settings.lan(), settings.externalInterface());
        this.leaseStore = leaseFile.map(LeaseStore::new);
        long now = now();
        this.engine = new NatPmpEngine(settings.engine(), params.gatewayPorts(), params.random(), now);
        engine.setStaticMappings(settings.staticMappings())
                .ifPresent(ic -> engine.committed(List.of(ic.ticket()), now)); // installed by the first reconcile
        restore();
        engine.setExternalAddress(params.externalAddresses().lookup(settings.externalInterface()));
        compactNow();
        publishFast();
        this.loop = new ScheduledThreadPoolExecutor(1, named("natpmp-loop"));
        this.loop.setRemoveOnCancelPolicy(true);
        this.commit = Executors.newSingleThreadExecutor(named("natpmp-commit"));
        this.swap = Executors.newSingleThreadExecutor(named("natpmp-swap"));
        try {
            if (settings.enabled()) {
                for (LanNetwork lan : lans) {
                    sockets.put(lan.address(), LanSocket.open(lan, params.serverPort(), this::received));
                }
            }
        } catch (IOException e) {
            sockets.values().forEach(LanSocket::close);
            loop.shutdownNow();
            commit.shutdownNow();
            swap.shutdownNow();
            throw new IllegalStateException("NAT-PMP cannot listen: " + e.getMessage(), e);
        }
        publishSnapshot();
        loop.execute(safe(this::start));
    }

    private void start() {
        loopThread = Thread.currentThread();
        LOG.info("NAT-PMP listener started: {} on {}, external interface {} ({}), {} mappings",
                settings.enabled() ? "listening" : "disabled", sockets.isEmpty() ? lans : sockets.values(),
                settings.externalInterface(), engine.externalAddress().map(Inet4Address::getHostAddress).orElse("no address"),
                engine.size());
        if (engine.externalAddress().isEmpty()) {
            LOG.warn("NAT-PMP: {} has no IPv4 address; requests get result 3 until it has one (N7)",
                    settings.externalInterface());
        }
        pollTask = loop.scheduleWithFixedDelay(safe(this::pollAddress), params.addressPollMillis(),
                params.addressPollMillis(), TimeUnit.MILLISECONDS);
        startBurst(); // N23: on start
        rescheduleExpiry();
        startBatch();
        if (leaseStore.isPresent()) {
            leaseTask = loop.scheduleWithFixedDelay(safe(this::leaseTick), LEASE_DEBOUNCE_MILLIS, LEASE_DEBOUNCE_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    // ------------------------------------------------------------------ restore

    private void restore() {
        if (leaseStore.isEmpty()) {
            LOG.info("NAT-PMP: no bundle data area; mappings are not persisted");
            return;
        }
        Path file = leaseStore.get().file();
        Optional<String> text;
        try {
            text = leaseStore.get().read();
        } catch (IOException e) {
            LOG.warn("NAT-PMP: cannot read lease file {} ({}); mapping state lost, new epoch", file, e.getMessage());
            return;
        }
        if (text.isEmpty()) {
            LOG.info("NAT-PMP: no lease file at {}; new epoch", file);
            return;
        }
        LeaseFile stored;
        try {
            stored = LeaseCodec.parse(text.get());
        } catch (LeaseCodec.CorruptLeaseFileException e) {
            LOG.warn("NAT-PMP: lease file {} is unusable ({}); mapping state lost, new epoch (N24)", file,
                    e.getMessage());
            return;
        }
        journalGeneration = stored.journal();
        try {
            Optional<String> journal = leaseStore.get().readJournal();
            if (journal.isPresent()) {
                LeaseCodec.Replay replay = LeaseCodec.replay(stored, journal.get());
                stored = replay.state();
                if (replay.problem().isPresent() && replay.applied() > 0) {
                    LOG.warn("NAT-PMP: lease journal {}: {}; {} changes before it restored",
                            leaseStore.get().journalFile(), replay.problem().get(), replay.applied());
                } else if (replay.problem().isPresent()) {
                    LOG.info("NAT-PMP: lease journal {} ignored: {}", leaseStore.get().journalFile(),
                            replay.problem().get());
                } else {
                    LOG.info("NAT-PMP: replayed {} journal changes{}", replay.applied(),
                            replay.torn() ? " (ignored a torn last line)" : "");
                }
            }
        } catch (IOException e) {
            LOG.warn("NAT-PMP: cannot read lease journal {} ({}); restoring the snapshot only",
                    leaseStore.get().journalFile(), e.getMessage());
        }
        long nowWall = params.wallMillis().getAsLong();
        long now = now();
        List<Lease> leases = new ArrayList<>();
        int expired = 0;
        for (StoredLease s : stored.leases()) {
            long remaining = s.expiresAtWallMillis() - nowWall;
            if (remaining <= 0) {
                expired++; // ran out while we were stopped: not a loss, just expiry
            } else {
                leases.add(new Lease(s.key(), s.externalPort(), Origin.NATPMP, s.lifetime(), now + remaining));
            }
        }
        List<Lease> rejected = engine.restore(leases, now);
        if (rejected.isEmpty()) {
            long age = Math.max(0, nowWall - stored.epochStartWallMillis());
            engine.continueEpoch(now - age);
            LOG.info("NAT-PMP: restored {} mappings from {} ({} expired while stopped); epoch continues at {} s",
                    leases.size(), file, expired, engine.epochSeconds(now));
        } else {
            engine.resetEpoch(now);
            LOG.warn("NAT-PMP: restored {} mappings from {}, {} collided with static mappings and were dropped;"
                    + " new epoch (N24)", leases.size() - rejected.size(), file, rejected.size());
        }
    }

    // ------------------------------------------------------------------ packets

    /** On a receive thread: answer what needs no table, queue the rest for the loop. */
    private void received(LanSocket socket, InetSocketAddress sender, byte[] data) {
        FastState f = fast;
        if (!f.enabled()) {
            return; // N26: being disabled; the socket is about to close
        }
        Inet4Address client = (Inet4Address) sender.getAddress();
        if (!f.fromLan(client)) {
            // N15: requests only from the LAN, for the sender itself
            LOG.debug("NAT-PMP: ignoring {} bytes from {}: not from a LAN", data.length, sender);
            return;
        }
        Request request;
        try {
            request = NatPmpCodec.decode(ByteBuffer.wrap(data));
        } catch (MalformedPacketException e) {
            malformed(sender, e); // N33: dropped
            return;
        }
        if (request instanceof Request.MapRequest m) {
            if (f.backendBound() && f.externalAddress().isPresent()) {
                // most traffic: a renewal of a mapping in the kernel changes no rule and is answered here
                long now = now();
                Optional<NatPmpEngine.FastAnswer> a = engine.answerRenewal(client, m, now,
                        Epoch.seconds(f.epochStartMillis(), now));
                if (a.isPresent()) {
                    send(socket, sender, a.get().reply());
                    if (a.get().key() != null) {
                        hand(new RenewedInbound(a.get().key(), a.get().port(), a.get().granted(), now), false);
                    }
                    return;
                }
            }
            hand(new MapInbound(socket, sender, client, m), true);
            return;
        }
        // opcode 0 and errors: no table involved, answered here without waking the loop (N1, N3, N4, N6, N7)
        Outcome outcome = NatPmpEngine.stateless(request, f.externalAddress(),
                Epoch.seconds(f.epochStartMillis(), now()));
        if (LOG.isDebugEnabled()) {
            LOG.debug("NAT-PMP: {} from {} -> {}", request, sender, outcome);
        }
        if (outcome instanceof Outcome.Reply r) {
            send(socket, sender, r.bytes());
        }
    }

    /**
     * Queues {@code in} for the loop. A request waits for the next wake-up of the loop; a renewal that was
     * answered already only has to move an expiry, so it may wait a little and share a later wake-up with many
     * others (the loop still handles everything in arrival order).
     */
    private void hand(Inbound in, boolean urgent) {
        inbox.add(in);
        if (urgent) {
            if (drainScheduled.compareAndSet(false, true)) {
                loop.execute(drainTask); // one wake-up for everything queued until the loop gets to it
            }
        } else if (lazyDrainScheduled.compareAndSet(false, true)) {
            try {
                loop.schedule(lazyDrainTask, RENEWAL_REPORT_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                lazyDrainScheduled.set(false); // stopping
            }
        }
    }

    /**
     * On the loop: handles every queued mapping request, then starts one batch for all of them. While this
     * runs, receive threads only queue (no second task, no wake-up). The loop does not spin on an empty queue:
     * on two cores a spinning loop takes the CPU the receive thread needs.
     */
    private void drainInbox() {
        long now = now();
        if (now - heapCheckedAt >= HEAP_CHECK_MILLIS) {
            heapCheckedAt = now;
            if (engine.memoryLow() && engine.size() < mappingsWhenLow * 3 / 4
                    && now - collectedAt >= COLLECT_INTERVAL_MILLIS) {
                // the table shrank a lot, but what survived the last old-generation collection is all the
                // heap can tell: a serial old collection may not come for a long time, so ask for one now
                collectedAt = now;
                System.gc(); // NOPMD: a few tens of milliseconds with a small heap, at most every 10 s
            }
            boolean full = params.heapFull().getAsBoolean();
            if (full != engine.memoryLow()) {
                engine.setMemoryLow(full);
                mappingsWhenLow = engine.size();
                if (full) {
                    LOG.warn("NAT-PMP: the heap is nearly full of live data ({} mappings); new mappings get result 4"
                            + " (out of resources) until there is room again; give the JVM more with"
                            + " NATPMPD_JAVA_OPTS=-Xmx...", engine.size());
                } else {
                    LOG.info("NAT-PMP: the heap has room again; new mappings are accepted");
                }
            }
        }
        draining = true;
        int handled = 0;
        try {
            Inbound in;
            while (handled < DRAIN_LIMIT && (in = inbox.poll()) != null) {
                handled++;
                try {
                    if (in instanceof MapInbound m) {
                        onMapRequest(m.socket(), m.sender(), m.client(), m.request());
                    } else if (in instanceof RenewedInbound r && !closed) {
                        engine.renewedElsewhere(r.key(), r.port(), r.granted(), r.answeredAt())
                                .ifPresent(ic -> enqueue(ic.ticket(), ic.change(), "renewed by "
                                        + r.key().client().getHostAddress() + " as it went away"));
                    }
                } catch (RuntimeException e) {
                    LOG.error("NAT-PMP: unexpected error handling {}", in, e); // a bug
                }
            }
        } finally {
            draining = false;
            drainScheduled.set(false); // from here on, a queued request schedules a new drain
        }
        if (!inbox.isEmpty() && drainScheduled.compareAndSet(false, true)) {
            loop.execute(drainTask); // left over (limit reached or a late arrival): timers get a turn first
        }
        flushBatch();
    }

    private void flushBatch() {
        afterChange();
        startBatch();
    }

    private void onMapRequest(LanSocket socket, InetSocketAddress sender, Inet4Address client, Request request) {
        if (closed || !settings.enabled() || sockets.get(socket.lan().address()) != socket || !fromLan(client)) {
            return; // the configuration changed while it was queued
        }
        long now = now();
        Outcome outcome = engine.handle(client, request, now);
        if (LOG.isDebugEnabled()) {
            LOG.debug("NAT-PMP: {} from {} -> {}", request, sender, outcome);
        }
        if (outcome instanceof Outcome.Reply r) {
            send(socket, sender, r.bytes());
        } else if (outcome instanceof Outcome.Pending p) {
            destinations.put(p.ticket(), new Destination(socket, sender));
            enqueue(p.ticket(), p.change(), "requested by " + client.getHostAddress());
        } else if (outcome instanceof Outcome.Joined j) {
            destinations.put(j.ticket(), new Destination(socket, sender));
        }
    }

    private boolean fromLan(Inet4Address client) {
        for (LanNetwork lan : lans) {
            if (lan.contains(client)) {
                return true;
            }
        }
        return false;
    }

    private void malformed(InetSocketAddress sender, MalformedPacketException e) {
        long now = now();
        boolean log;
        synchronized (malformedLock) { // receive threads of several LAN sockets
            if (now - malformedWindowStart > MALFORMED_LOG_WINDOW_MILLIS) {
                malformedWindowStart = now;
                malformedLogged = 0;
            }
            log = malformedLogged++ < MALFORMED_LOG_PER_WINDOW;
        }
        if (log) {
            LOG.debug("NAT-PMP: dropped malformed packet from {}: {}", sender, e.getMessage());
        }
    }

    /** Publishes what the receive threads answer from; call after every change of its inputs (loop thread). */
    private void publishFast() {
        fast = new FastState(settings.enabled() && !closed, List.copyOf(lans), engine.externalAddress(),
                engine.epochStartMillis(), backend != null);
    }

    private void send(LanSocket socket, InetSocketAddress target, byte[] bytes) {
        try {
            socket.send(bytes, target);
        } catch (IOException e) {
            LOG.debug("NAT-PMP: cannot answer {}: {}", target, e.getMessage());
        }
    }

    // ------------------------------------------------------------------ group commit

    private void enqueue(long ticket, FirewallChange change, String reason) {
        queuedTickets.add(ticket);
        queuedChange.append(change);
        ticketChanges.put(ticket, change);
        reasons.put(ticket, reason);
        if (!draining) {
            startBatch(); // while draining, one batch starts after the whole queue
        }
    }

    private void startBatch() {
        if (closed || inFlight) {
            return;
        }
        long now = now();
        if (backend == null) {
            // nothing of ours is in any kernel: internal changes simply hold; clients were promised a rule
            if (!queuedTickets.isEmpty()) {
                List<Long> clientTickets = new ArrayList<>();
                List<Long> internalTickets = new ArrayList<>();
                for (long t : queuedTickets) {
                    (destinations.containsKey(t) ? clientTickets : internalTickets).add(t);
                }
                queuedTickets.clear();
                queuedChange.clear();
                deliver(engine.failed(clientTickets, now), Optional.of(new IllegalStateException("no firewall backend")));
                logChanges(internalTickets);
                journal(internalTickets, journalBacklog); // committed without a kernel: saved with the next job
                deliver(engine.committed(internalTickets, now), Optional.empty());
            }
            releaseUnused();
            return;
        }
        FirewallBackend target = backend;
        boolean viaStandby = false;
        if (swapTarget != null) {
            if (standby == null || swapGeneration != reconcileGeneration || queuedTickets.isEmpty()) {
                if (!queuedTickets.isEmpty() && LOG.isDebugEnabled()) {
                    LOG.debug("NAT-PMP: {} changes wait for {} (standby {}, generation {} of {})",
                            queuedTickets.size(), name(swapTarget), standby == null ? "none" : name(standby),
                            swapGeneration, reconcileGeneration);
                }
                return; // wait for the swap thread (nothing to do, or the standby cannot be used)
            }
            target = standby;
            viaStandby = true;
        } else if (releasing.contains(backend)) {
            return; // bound again while its release runs: reconciled once that has finished
        }
        boolean reconcile = !viaStandby && reconcileGeneration != reconciledGeneration;
        if (queuedTickets.isEmpty() && !reconcile && !(catchUpDue && !viaStandby)) {
            return;
        }
        boolean swapBusy = swapTarget != null || !releasing.isEmpty();
        if (swapBusy && now - swapJobSubmittedMillis >= params.swapExclusiveAfterMillis()) {
            if (!swapExclusiveLogged) {
                swapExclusiveLogged = true;
                LOG.info("NAT-PMP: the swap has run {} ms; requests wait for it to finish", now - swapJobSubmittedMillis);
            }
            return; // started again when the swap thread reports back
        }
        if (swapBusy && now - lastSubmitMillis < SWAP_BATCH_SPACING_MILLIS) {
            if (spacingTask == null) {
                spacingTask = loop.schedule(safe(() -> {
                    spacingTask = null;
                    startBatch();
                }), lastSubmitMillis + SWAP_BATCH_SPACING_MILLIS - now, TimeUnit.MILLISECONDS);
            }
            return;
        }
        List<Long> tickets = List.copyOf(queuedTickets);
        FirewallChange change = queuedChange.build();
        queuedTickets.clear();
        queuedChange.clear();
        if (viaStandby) {
            sinceSwap.append(change);
        } else if (catchUpDue && !reconcile) {
            ChangeAccumulator all = new ChangeAccumulator();
            all.append(sinceSwap.build());
            all.append(change);
            change = all.build();
        }
        FirewallState state = reconcile ? new FirewallState(topology(), engine.desiredForwards(), Set.of()) : null;
        StringBuilder lines = new StringBuilder();
        journal(tickets, lines);
        submit(new Job(target, state, change, tickets, carried(), lines.toString(), compactionIfDue(now),
                reconcileGeneration, false, viaStandby));
    }

    /**
     * Starts installing the whole table in the new backend on the swap thread while {@link #standby} keeps
     * taking batches (loop thread).
     */
    private void startSwap() {
        FirewallBackend target = backend;
        markSwapJob();
        swapTarget = target;
        swapGeneration = reconcileGeneration;
        sinceSwap.clear();
        catchUpDue = false;
        long generation = swapGeneration;
        FirewallState state = new FirewallState(topology(), engine.desiredForwards(), Set.of());
        long started = now();
        swap.execute(() -> {
            Exception error = null;
            try {
                target.reconcile(OWNER, state);
            } catch (FirewallException | RuntimeException e) {
                error = e;
            } catch (Throwable t) { // the swap must end whatever happens, or batches would wait for it for ever
                LOG.error("NAT-PMP: reconciling {} failed unexpectedly", name(target), t);
                error = new IllegalStateException("reconcile failed: " + t, t);
            }
            Optional<BackendHealth> h = health(target);
            Exception failure = error;
            onLoop(() -> swapDone(target, generation, state.forwards().size(), Optional.ofNullable(failure), h,
                    now() - started));
        });
    }

    private void swapDone(FirewallBackend target, long generation, int count, Optional<Exception> error,
            Optional<BackendHealth> h, long millis) {
        swapTarget = null;
        if (target != backend) {
            if (!toRelease.contains(target)) {
                toRelease.add(target); // replaced again while it was being reconciled
            }
        } else if (error.isEmpty()) {
            health = h;
            if (generation == reconcileGeneration) {
                reconciledGeneration = generation;
                catchUpDue = true;
            }
            LOG.info("NAT-PMP: firewall backend {} holds all {} mappings ({} ms); catching up with the changes made"
                    + " meanwhile", name(target), count, millis);
        } else {
            health = h;
            LOG.warn("NAT-PMP: firewall backend {} could not take the mappings: {}; {} keeps them until it can",
                    name(target), error.get().getMessage(), standby == null ? "nothing" : name(standby));
            reconcileGeneration++;
            scheduleRetry();
        }
        startBatch();
        releaseUnused();
        markSnapshot();
    }

    /** Notes when the swap thread, idle until now, is given a job (see {@link #SWAP_EXCLUSIVE_AFTER_MILLIS}). */
    private void markSwapJob() {
        if (swapTarget == null && releasing.isEmpty()) {
            swapJobSubmittedMillis = now();
            swapExclusiveLogged = false;
        }
    }

    /** The backend in use holds everything: the standby is no longer needed. */
    private void backendComplete() {
        catchUpDue = false;
        sinceSwap.clear();
        if (standby != null) {
            if (standby != backend && !toRelease.contains(standby)) {
                toRelease.add(standby);
            }
            standby = null;
        }
        releaseUnused();
    }

    /**
     * Releases, on the swap thread, the backends no longer used, once the one in use holds every mapping (or
     * none is bound, when there is nothing to protect).
     */
    private void releaseUnused() {
        if (toRelease.isEmpty() || closed) {
            return;
        }
        boolean safe = backend == null
                || swapTarget == null && !catchUpDue && standby == null && reconciledGeneration == reconcileGeneration;
        if (!safe) {
            return;
        }
        for (FirewallBackend old : List.copyOf(toRelease)) {
            if (old == backend || releasing.contains(old)) {
                continue;
            }
            toRelease.remove(old);
            markSwapJob();
            releasing.add(old);
            int attempt = releaseAttempts.merge(old, 1, Integer::sum);
            swap.execute(() -> {
                boolean done;
                try {
                    old.release(OWNER);
                    LOG.info("NAT-PMP: released our rules from firewall backend {}", name(old));
                    done = true;
                } catch (FirewallException | RuntimeException e) {
                    done = attempt >= RELEASE_ATTEMPTS;
                    LOG.warn("NAT-PMP: could not release our rules from firewall backend {} ({}): {}", name(old),
                            done ? "giving up; the backend removes them when it stops" : "trying again",
                            e.getMessage());
                }
                boolean finished = done;
                onLoop(() -> {
                    releasing.remove(old);
                    if (finished) {
                        releaseAttempts.remove(old);
                    } else if (!toRelease.contains(old) && old != backend) {
                        toRelease.add(old);
                        loop.schedule(safe(this::releaseUnused), RELEASE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
                    }
                    startBatch();
                });
            });
        }
    }

    private static Optional<BackendHealth> health(FirewallBackend b) {
        try {
            return Optional.of(b.health());
        } catch (RuntimeException e) {
            LOG.debug("NAT-PMP: backend health unavailable", e);
            return Optional.empty();
        }
    }

    private void submit(Job job) {
        inFlight = true;
        lastSubmitMillis = now();
        commit.execute(() -> {
            try {
                runJob(job);
            } catch (Throwable t) { // e.g. out of memory: the job must still end, or no batch would ever start again
                LOG.error("NAT-PMP: firewall job failed unexpectedly", t);
                Exception failure = new IllegalStateException("firewall job failed: " + t, t);
                onLoop(() -> jobDone(job, Optional.of(failure), false, Optional.empty()));
            }
        });
    }

    /** On the commit thread: kernel first, then the lease file, then back to the loop. */
    private void runJob(Job job) {
        Exception error = null;
        try {
            if (job.backend() != null) {
                if (job.state() != null) {
                    job.backend().reconcile(OWNER, job.state());
                } else if (!job.change().isEmpty()) {
                    job.backend().apply(OWNER, job.change());
                }
            }
        } catch (FirewallException | RuntimeException e) {
            error = e;
        }
        // a batch the standby refused is queued again, so its lines are not journaled yet
        boolean compacted = persist(job, error == null, !(job.viaStandby() && error != null));
        Optional<BackendHealth> h = job.backend() == null ? Optional.empty() : health(job.backend());
        Exception failure = error;
        try {
            loop.execute(safe(() -> jobDone(job, Optional.ofNullable(failure), compacted, h)));
        } catch (RejectedExecutionException e) {
            LOG.debug("NAT-PMP: loop stopped before a firewall job finished");
        }
    }

    /**
     * On the commit thread, after the firewall part and before the replies: saves the job's journal lines
     * (or its compaction) and forces the journal about once a second.
     *
     * @return whether the job's compaction was written
     */
    private boolean persist(Job job, boolean succeeded, boolean writeCarried) {
        if (leaseStore.isEmpty()) {
            return false;
        }
        LeaseStore store = leaseStore.get();
        boolean compacted = false;
        try {
            if (succeeded && job.compaction().isPresent()) {
                Compaction c = job.compaction().get();
                long started = now();
                store.compact(c.text(), LeaseCodec.journalHeader(c.journal()));
                compacted = true;
                lastSyncMillis = now();
                LOG.debug("NAT-PMP: lease journal compacted into a snapshot of {} mappings in {} ms", c.leases().size(),
                        lastSyncMillis - started);
            } else {
                String text = succeeded ? job.carried() + job.lines() : writeCarried ? job.carried() : "";
                if (!text.isEmpty()) {
                    store.append(text);
                }
            }
        } catch (IOException e) {
            LOG.warn("NAT-PMP: cannot save leases to {}: {}", store.file(), e.toString());
            if (!compacted && succeeded && job.compaction().isPresent()) {
                try {
                    store.append(job.carried() + job.lines()); // keep the journal going until compaction works
                } catch (IOException e2) {
                    LOG.debug("NAT-PMP: journal append failed too", e2);
                }
            }
        }
        long now = now();
        if (store.unsynced() && (job.forceSync() || now - lastSyncMillis >= LEASE_DEBOUNCE_MILLIS)) {
            try {
                store.sync(); // power-loss safety; a process kill is covered by the page cache already
            } catch (IOException e) {
                LOG.warn("NAT-PMP: cannot force lease journal {}: {}", store.journalFile(), e.toString());
            }
            lastSyncMillis = now;
        }
        return compacted;
    }

    private void jobDone(Job job, Optional<Exception> error, boolean compacted, Optional<BackendHealth> h) {
        inFlight = false;
        if (job.compaction().isPresent() && !compacted) {
            compactDue = true; // the journal still holds everything since the old snapshot
            compactNotBefore = now() + (error.isEmpty() ? COMPACT_RETRY_MILLIS : 0);
        }
        if (job.backend() != null && job.backend() == backend) {
            health = h;
        }
        long now = now();
        if (job.viaStandby() && error.isPresent()) {
            // not the client's problem: the new backend takes this batch once it holds the table
            LOG.info("NAT-PMP: standby backend {} refused a batch of {} changes ({}); it waits for {}",
                    name(job.backend()), job.tickets().size(), error.get().getMessage(), name(backend));
            if (standby == job.backend()) {
                standby = null;
                if (job.backend() != backend && !toRelease.contains(job.backend())) {
                    toRelease.add(job.backend());
                }
            }
            List<Long> newerTickets = List.copyOf(queuedTickets);
            FirewallChange newer = queuedChange.build();
            queuedTickets.clear();
            queuedChange.clear();
            queuedTickets.addAll(job.tickets());
            queuedTickets.addAll(newerTickets);
            queuedChange.append(job.change());
            queuedChange.append(newer);
            if (job.carried().length() > 0) {
                journalBacklog.insert(0, job.carried());
            }
        } else if (error.isEmpty()) {
            if (job.state() != null) {
                if (job.generation() == reconcileGeneration) {
                    reconciledGeneration = job.generation();
                }
                LOG.info("NAT-PMP: firewall backend {} holds all {} mappings", name(job.backend()),
                        job.state().forwards().size());
            }
            if (job.backend() != null && job.backend() == backend && !job.viaStandby()
                    && reconciledGeneration == reconcileGeneration && swapTarget == null) {
                backendComplete();
            }
            retryDelay = MIN_RETRY_MILLIS;
            logChanges(job.tickets());
            deliver(engine.committed(job.tickets(), now), Optional.empty());
        } else if (job.backend() != null) {
            LOG.warn("NAT-PMP: firewall {} of {} changes failed on backend {}: {}; clients get result 3, the whole"
                    + " state is re-applied in {} s", job.state() != null ? "reconcile" : "batch", job.tickets().size(),
                    name(job.backend()), error.get().getMessage(), retryDelay / 1000);
            reconcileGeneration++;
            deliver(engine.failed(job.tickets(), now), error);
            scheduleRetry();
        }
        afterChange();
        startBatch();
    }

    private void deliver(List<Completion> completions, Optional<Exception> error) {
        for (Completion c : completions) {
            ticketChanges.remove(c.ticket());
            reasons.remove(c.ticket());
            AdminOp op = adminOps.remove(c.ticket());
            if (op != null) {
                if (error.isEmpty()) {
                    op.future().complete(op.count());
                } else {
                    op.future().completeExceptionally(error.get());
                }
            }
            Destination d = destinations.remove(c.ticket());
            if (d != null && c.hasReply() && !closed && sockets.get(d.socket().lan().address()) == d.socket()) {
                send(d.socket(), d.sender(), c.reply());
            }
        }
    }

    private void logChanges(List<Long> tickets) {
        for (long t : tickets) {
            FirewallChange change = ticketChanges.get(t);
            String reason = reasons.getOrDefault(t, "");
            if (change == null) {
                continue;
            }
            for (PortForward f : change.removeForwards()) {
                LOG.info("NAT-PMP: unmapped {} ({})", f, reason);
            }
            for (PortForward f : change.addForwards()) {
                LOG.info("NAT-PMP: mapped {} ({})", f, reason);
            }
        }
    }

    private void scheduleRetry() {
        if (retryTask != null || closed) {
            return;
        }
        retryTask = loop.schedule(safe(() -> {
            retryTask = null;
            startBatch();
        }), retryDelay, TimeUnit.MILLISECONDS);
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MILLIS);
    }

    private Topology topology() {
        return new Topology(settings.externalInterface(), engine.externalAddress(), lans);
    }

    // ------------------------------------------------------------------ lease file

    /**
     * Appends the journal lines of {@code tickets} (in ticket order: removals, then additions with the
     * mapping as it is now). O(changes).
     */
    private void journal(List<Long> tickets, StringBuilder out) {
        if (leaseStore.isEmpty()) {
            return;
        }
        long now = now();
        long wall = params.wallMillis().getAsLong();
        for (long t : tickets) {
            FirewallChange change = ticketChanges.get(t);
            if (change == null) {
                continue;
            }
            for (PortForward f : change.removeForwards()) {
                LeaseCodec.appendDrop(out, new MappingKey(f.internalAddress(), f.protocol(), f.internalPort()));
                journalLines++;
            }
            for (PortForward f : change.addForwards()) {
                Optional<Lease> l = engine.lease(new MappingKey(f.internalAddress(), f.protocol(), f.internalPort()));
                if (l.isPresent() && !l.get().isStatic()) { // static mappings live in the configuration
                    LeaseCodec.appendLease(out, stored(l.get(), now, wall));
                    journalLines++;
                }
            }
        }
    }

    private static StoredLease stored(Lease l, long now, long wall) {
        return new StoredLease(l.key(), l.externalPort(), l.lifetime(), wall + (l.expiresAt() - now));
    }

    /** @return the backlog plus the renewals since the last call (lazily saved expiries), and clears both */
    private String carried() {
        if (leaseStore.isEmpty()) {
            return "";
        }
        List<Lease> renewed = engine.drainRenewed();
        if (!renewed.isEmpty()) {
            long now = now();
            long wall = params.wallMillis().getAsLong();
            for (Lease l : renewed) {
                LeaseCodec.appendLease(journalBacklog, stored(l, now, wall));
                journalLines++;
            }
        }
        if (journalBacklog.length() == 0) {
            return "";
        }
        String text = journalBacklog.toString();
        journalBacklog.setLength(0);
        return text;
    }

    /** @return a compaction when the journal has outgrown the table (or the epoch changed), else empty */
    private Optional<Compaction> compactionIfDue(long now) {
        if (leaseStore.isEmpty() || now < compactNotBefore
                || !compactDue && journalLines <= Math.max(COMPACT_MIN_LINES, 2L * engine.size())) {
            return Optional.empty();
        }
        compactDue = false;
        journalLines = 0;
        return Optional.of(compaction(now));
    }

    /** O(table) copy of immutable leases; the text is formatted on the commit thread. */
    private Compaction compaction(long now) {
        journalGeneration = Math.max(journalGeneration + 1, params.wallMillis().getAsLong());
        return new Compaction(engine.leases(), now, params.wallMillis().getAsLong(), engine.epochStartMillis(),
                journalGeneration);
    }

    /** In the constructor: the restored state becomes the snapshot, and a new journal starts. */
    private void compactNow() {
        if (leaseStore.isEmpty()) {
            return;
        }
        Compaction c = compaction(now());
        try {
            leaseStore.get().compact(c.text(), LeaseCodec.journalHeader(c.journal()));
        } catch (IOException e) {
            LOG.warn("NAT-PMP: cannot write lease file {}: {}", leaseStore.get().file(), e.toString());
            compactDue = true;
        }
    }

    /** Once a second: saves renewals and forces the journal when the commit thread is idle. */
    private void leaseTick() {
        if (closed || inFlight) {
            return; // the running job's successor carries the backlog; the commit thread forces by itself
        }
        long now = now();
        Optional<Compaction> c = compactionIfDue(now);
        if (c.isPresent() || journalBacklog.length() > 0 || engine.hasRenewed() || leaseStore.get().unsynced()) {
            submit(new Job(null, null, FirewallChange.forwards(Set.of(), Set.of()), List.of(), carried(), "", c,
                    reconcileGeneration, true, false));
        }
    }

    private void epochReset() {
        engine.resetEpoch(now());
        compactDue = true; // the snapshot must carry the new epoch start
        compactNotBefore = 0;
        publishFast();
        LOG.info("NAT-PMP: new epoch (mapping state was reset)");
    }

    // ------------------------------------------------------------------ timers

    private void afterChange() {
        rescheduleExpiry();
        markSnapshot();
    }

    private void rescheduleExpiry() {
        OptionalLong next = engine.nextExpiry();
        if (closed || next.isEmpty() || expiryTask != null && next.getAsLong() >= expiryAt) {
            return; // a wake-up that comes too early finds nothing and reschedules
        }
        if (expiryTask != null) {
            expiryTask.cancel(false);
        }
        expiryAt = next.getAsLong();
        expiryTask = loop.schedule(safe(this::onExpiry), Math.max(0, expiryAt - now()), TimeUnit.MILLISECONDS);
    }

    private void onExpiry() {
        expiryTask = null;
        expiryAt = Long.MAX_VALUE;
        engine.expire(now()).ifPresent(ic -> enqueue(ic.ticket(), ic.change(), "expired"));
        afterChange();
    }

    private void pollAddress() {
        Optional<Inet4Address> address = params.externalAddresses().lookup(settings.externalInterface());
        if (address.equals(engine.externalAddress())) {
            return;
        }
        if (address.isPresent()) {
            LOG.info("NAT-PMP: external address of {} is now {}", settings.externalInterface(),
                    address.get().getHostAddress());
        } else {
            LOG.warn("NAT-PMP: {} lost its external address; requests get result 3 until it has one (N7)",
                    settings.externalInterface());
        }
        engine.setExternalAddress(address);
        publishFast();
        reconcileGeneration++; // the topology carries the address
        startBatch();
        startBurst(); // N23: restarts on every change; none while there is no address
        markSnapshot();
    }

    private void startBurst() {
        if (burstTask != null) {
            burstTask.cancel(false);
            burstTask = null;
        }
        if (closed || !settings.announce() || !settings.enabled() || engine.externalAddress().isEmpty()
                || sockets.isEmpty()) {
            return;
        }
        burstSent = 0;
        burstTask = loop.schedule(safe(this::announce), 0, TimeUnit.MILLISECONDS);
    }

    private void announce() {
        burstTask = null;
        Optional<Inet4Address> address = engine.externalAddress();
        if (closed || address.isEmpty() || !settings.enabled() || !settings.announce()) {
            return;
        }
        // fresh SSSoE in every copy (N23); one copy per LAN interface, never out of the external one
        byte[] bytes = NatPmpCodec.announcement(engine.epochSeconds(now()), address.get());
        Set<String> interfaces = new HashSet<>();
        for (LanSocket s : sockets.values()) {
            if (s.multicastReady() && interfaces.add(s.lan().interfaceName())) {
                try {
                    s.send(bytes, params.announceTarget());
                } catch (IOException e) {
                    LOG.debug("NAT-PMP: announcement from {} failed: {}", s, e.getMessage());
                }
            }
        }
        burstSent++;
        if (burstSent == 1) {
            LOG.info("NAT-PMP: announcing external address {} (epoch {} s)", address.get().getHostAddress(),
                    engine.epochSeconds(now()));
        }
        if (burstSent < ANNOUNCEMENTS) {
            burstTask = loop.schedule(safe(this::announce), FIRST_GAP_MILLIS << (burstSent - 1), TimeUnit.MILLISECONDS);
        }
    }

    // ------------------------------------------------------------------ snapshot

    /** The table changed: the next reader gets a fresh snapshot (built only when someone reads, O(table)). */
    private void markSnapshot() {
        snapshotStale.set(true);
    }

    private void publishSnapshot() {
        long now = now();
        List<Mapping> mappings = new ArrayList<>();
        for (Lease l : engine.leases()) {
            mappings.add(new Mapping(l.key().client(), l.key().protocol(), l.key().internalPort(), l.externalPort(),
                    l.lifetime(), l.remainingSeconds(now), l.origin()));
        }
        FirewallBackend b = backend;
        snapshot = new MappingSnapshot(Instant.ofEpochMilli(params.wallMillis().getAsLong()), settings.enabled(),
                engine.epochSeconds(now), engine.externalAddress(), mappings,
                b == null ? Optional.empty() : Optional.of(name(b)), b == null ? Optional.empty() : health, lastSwap,
                b == null ? List.of() : health.map(List::of).orElse(List.of()));
    }

    /**
     * @return a snapshot of the current state (any thread; a stale one is rebuilt on the loop first, waiting at
     *         most a second, else the last one)
     */
    MappingSnapshot snapshot() {
        if (!snapshotStale.get()) {
            return snapshot;
        }
        if (Thread.currentThread() == loopThread) {
            refreshSnapshot();
            return snapshot;
        }
        CompletableFuture<MappingSnapshot> f = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                try {
                    refreshSnapshot();
                } finally {
                    f.complete(snapshot);
                }
            });
            return f.get(1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | ExecutionException | TimeoutException e) {
            return snapshot;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return snapshot;
        }
    }

    private void refreshSnapshot() {
        if (snapshotStale.getAndSet(false)) {
            publishSnapshot();
        }
    }

    // ------------------------------------------------------------------ backend (any thread -> loop)

    void backendBound(FirewallBackend b) {
        onLoop(() -> {
            if (backend == b) {
                return;
            }
            FirewallBackend previous = backend;
            // make before break only from a backend that holds every mapping, and one swap at a time
            boolean previousComplete = previous != null && swapTarget == null && standby == null && !catchUpDue
                    && reconciledGeneration == reconcileGeneration && !releasing.contains(previous);
            backend = b;
            lastSwap = Optional.of(Instant.ofEpochMilli(params.wallMillis().getAsLong()));
            toRelease.remove(b);
            health = Optional.empty();
            engine.setBackendAvailable(true);
            publishFast();
            reconcileGeneration++;
            if (previous != null) {
                LOG.info("NAT-PMP: firewall backend {} replaces {}; installing {} mappings", name(b), name(previous),
                        engine.size());
            } else {
                LOG.info("NAT-PMP: firewall backend {} bound; installing {} mappings", name(b), engine.size());
            }
            if (previousComplete && !releasing.contains(b)) {
                standby = previous; // released only once the new one holds everything
                startSwap();
            } else {
                if (previous != null) {
                    LOG.info("NAT-PMP: {} cannot serve while {} is filled (swap in progress {}, standby {}, catch-up"
                            + " due {}, reconciled {} of {}, releasing {}); requests wait for {}", name(previous),
                            name(b), swapTarget != null, standby != null, catchUpDue, reconciledGeneration,
                            reconcileGeneration - 1, releasing.contains(previous) || releasing.contains(b), name(b));
                }
                for (FirewallBackend old : new FirewallBackend[] {previous, standby}) {
                    if (old != null && old != b && !toRelease.contains(old)) {
                        toRelease.add(old);
                    }
                }
                if (standby != null) {
                    standby = null;
                    catchUpDue = false;
                    sinceSwap.clear();
                }
            }
            startBatch();
            markSnapshot();
        });
    }

    void backendUpdated(FirewallBackend b) {
        onLoop(() -> LOG.debug("NAT-PMP: firewall backend {} changed its properties", name(b)));
    }

    void backendUnbound(FirewallBackend b) {
        onLoop(() -> {
            if (backend == b) {
                backend = null;
                lastSwap = Optional.of(Instant.ofEpochMilli(params.wallMillis().getAsLong()));
                health = Optional.empty();
                engine.setBackendAvailable(false);
                publishFast();
                LOG.warn("NAT-PMP: firewall backend {} unbound; mapping requests get result 3 until another is bound",
                        name(b));
            }
            // An unbound standby stays: after a backend.target change SCR unbinds the old backend, which still
            // works and holds every rule until the new one has them. If it is going away instead (bundle
            // stopped), its batches fail and are queued again for the new backend.
            if (!toRelease.contains(b)) {
                toRelease.add(b);
            }
            startBatch();
            releaseUnused();
            markSnapshot();
        });
    }

    // ------------------------------------------------------------------ configuration

    /**
     * Applies new settings in place (called on the SCR thread). LAN entries are resolved here so that a bad
     * one is reported to the caller and nothing changes.
     *
     * @param next validated settings
     * @throws IllegalArgumentException if a LAN entry cannot be used
     */
    void reconfigure(ListenerSettings next) {
        List<LanNetwork> nextLans = Interfaces.resolveLans(next.lan(), next.externalInterface());
        onLoop(() -> apply(next, nextLans));
    }

    private void apply(ListenerSettings next, List<LanNetwork> nextLans) {
        ListenerSettings previous = settings;
        settings = next;
        engine.configure(next.engine());
        engine.setStaticMappings(next.staticMappings())
                .ifPresent(ic -> enqueue(ic.ticket(), ic.change(), "static mapping"));
        if (!nextLans.equals(lans)) {
            lans = nextLans;
            reconcileGeneration++;
            if (next.enabled() && previous.enabled()) {
                syncSockets();
            }
        }
        if (!previous.externalInterface().equals(next.externalInterface())) {
            reconcileGeneration++;
            pollAddress();
        }
        if (previous.enabled() != next.enabled()) {
            if (next.enabled()) {
                enable();
            } else {
                disable();
            }
        } else if (next.announce() != previous.announce()) {
            startBurst(); // starts when switched on, cancels when switched off
        }
        LOG.info("NAT-PMP: configuration applied in place (ports {}, lifetimes {}..{} s, {} rules, {} static mappings,"
                + " {})", next.engine().portRange(), next.engine().lifetimes().min(), next.engine().lifetimes().max(),
                next.engine().permissions().rules().size(), next.staticMappings().size(),
                next.enabled() ? "enabled" : "disabled");
        publishFast();
        startBatch();
        afterChange();
    }

    private void syncSockets() {
        Map<Inet4Address, LanNetwork> wanted = new LinkedHashMap<>();
        for (LanNetwork lan : lans) {
            wanted.put(lan.address(), lan);
        }
        for (var it = sockets.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            if (!e.getValue().lan().equals(wanted.get(e.getKey()))) {
                e.getValue().close();
                it.remove();
                LOG.info("NAT-PMP: stopped listening on {}", e.getKey().getHostAddress());
            }
        }
        for (LanNetwork lan : wanted.values()) {
            if (!sockets.containsKey(lan.address())) {
                try {
                    LanSocket s = LanSocket.open(lan, params.serverPort(), this::received);
                    sockets.put(lan.address(), s);
                    LOG.info("NAT-PMP: listening on {}", s);
                } catch (IOException e) {
                    LOG.error("NAT-PMP: {}", e.getMessage());
                }
            }
        }
    }

    private void enable() {
        epochReset(); // N30: the mappings were flushed while disabled
        syncSockets();
        LOG.info("NAT-PMP enabled: listening on {}", sockets.values());
        startBurst();
    }

    private void disable() {
        for (LanSocket s : sockets.values()) {
            s.close(); // N26: port 5351 closed, so clients get ICMP port unreachable
        }
        sockets.clear();
        startBurst(); // cancels
        int count = engine.size();
        engine.flushDynamic().ifPresent(ic -> enqueue(ic.ticket(), ic.change(), "NAT-PMP disabled"));
        LOG.info("NAT-PMP disabled: port {} closed, {} NAT-PMP mappings removed (N26, N30)", params.serverPort(),
                count - engine.size());
    }

    // ------------------------------------------------------------------ administration

    CompletionStage<Integer> delete(Inet4Address client, Protocol protocol, int internalPort) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        admin(f, () -> engine.adminDelete(new MappingKey(client, protocol, internalPort)));
        return f;
    }

    CompletionStage<Integer> deleteAll(Inet4Address client) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        admin(f, () -> engine.adminDeleteAll(client));
        return f;
    }

    private void admin(CompletableFuture<Integer> f, java.util.function.Supplier<Optional<InternalChange>> op) {
        try {
            loop.execute(() -> {
                try {
                    Optional<InternalChange> ic = op.get();
                    if (ic.isEmpty()) {
                        f.complete(0);
                        return;
                    }
                    adminOps.put(ic.get().ticket(), new AdminOp(f, ic.get().removed().size()));
                    enqueue(ic.get().ticket(), ic.get().change(), "deleted by administrator");
                    afterChange();
                } catch (RuntimeException e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new IllegalStateException("the NAT-PMP listener is stopped"));
        }
    }

    // ------------------------------------------------------------------ test access

    /** @return the bound socket addresses (waits for the loop) */
    List<InetSocketAddress> boundAddresses() {
        CompletableFuture<List<InetSocketAddress>> f = new CompletableFuture<>();
        onLoop(() -> {
            List<InetSocketAddress> list = new ArrayList<>();
            for (LanSocket s : sockets.values()) {
                list.add(new InetSocketAddress(s.lan().address(), s.localPort()));
            }
            f.complete(list);
        });
        return f.join();
    }

    // ------------------------------------------------------------------ shutdown

    /** Stops listening, saves the leases, releases our rules and ends the threads (bounded). */
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
            stopped.get(5, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // already closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("NAT-PMP: orderly stop did not finish: {}", e.toString());
        }
        loop.shutdownNow();
        commit.shutdown();
        swap.shutdown();
        try {
            if (!commit.awaitTermination(10, TimeUnit.SECONDS)) {
                commit.shutdownNow();
            }
            if (!swap.awaitTermination(10, TimeUnit.SECONDS)) {
                swap.shutdownNow();
            }
            loop.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdownOnLoop() {
        if (closed) {
            return;
        }
        closed = true;
        publishFast();
        for (ScheduledFuture<?> t : new ScheduledFuture<?>[] {pollTask, burstTask, expiryTask, leaseTask, retryTask,
                spacingTask}) {
            if (t != null) {
                t.cancel(false);
            }
        }
        for (LanSocket s : sockets.values()) {
            s.close();
        }
        sockets.clear();
        Optional<Compaction> leases = leaseStore.map(s -> compaction(now()));
        String backlog = carried();
        int count = engine.size();
        List<FirewallBackend> release = new ArrayList<>(toRelease);
        for (FirewallBackend b : new FirewallBackend[] {backend, standby}) {
            if (b != null && !release.contains(b)) {
                release.add(b);
            }
        }
        for (AdminOp op : adminOps.values()) {
            op.future().completeExceptionally(new IllegalStateException("the NAT-PMP listener stopped"));
        }
        commit.execute(() -> {
            if (leases.isPresent() && leaseStore.isPresent()) {
                LeaseStore store = leaseStore.get();
                try {
                    store.compact(leases.get().text(), LeaseCodec.journalHeader(leases.get().journal()));
                } catch (IOException e) {
                    LOG.warn("NAT-PMP: cannot write lease file {}: {}", store.file(), e.toString());
                    try {
                        store.append(backlog); // the journal still continues the old snapshot
                    } catch (IOException e2) {
                        LOG.debug("NAT-PMP: journal append failed too", e2);
                    }
                }
                store.close();
            }
        });
        // on the swap thread: after a reconcile or release that may still run there
        swap.execute(() -> {
            for (FirewallBackend b : release) {
                try {
                    b.release(OWNER);
                } catch (FirewallException | RuntimeException e) {
                    LOG.warn("NAT-PMP: could not release our rules from firewall backend {}: {}", name(b),
                            e.getMessage());
                }
            }
        });
        LOG.info("NAT-PMP listener stopped; {} mappings saved{}", count,
                leaseStore.map(s -> " to " + s.file()).orElse(" nowhere (no data area)"));
    }

    // ------------------------------------------------------------------ helpers

    private long now() {
        return params.monotonicMillis().getAsLong();
    }

    private void onLoop(Runnable r) {
        try {
            loop.execute(safe(r));
        } catch (RejectedExecutionException e) {
            LOG.debug("NAT-PMP: listener stopped; event dropped");
        }
    }

    private static String name(FirewallBackend b) {
        try {
            return b.name();
        } catch (RuntimeException e) {
            return String.valueOf(b);
        }
    }

    /** Nothing escapes the loop: log and continue (a runtime exception here is a bug). */
    private static Runnable safe(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (Throwable t) {
                LOG.error("NAT-PMP: unexpected error on the event loop", t);
            }
        };
    }

    private static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
