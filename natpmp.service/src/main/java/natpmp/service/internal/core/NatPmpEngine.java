// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.FirewallChange;
import natpmp.api.Origin;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.service.internal.core.Outcome.Drop;
import natpmp.service.internal.core.Outcome.Joined;
import natpmp.service.internal.core.Outcome.Pending;
import natpmp.service.internal.core.Outcome.Reply;
import natpmp.service.internal.core.Request.ExternalAddressRequest;
import natpmp.service.internal.core.Request.MapRequest;
import natpmp.service.internal.core.Request.ResponseIgnored;
import natpmp.service.internal.core.Request.UnsupportedOpcode;
import natpmp.service.internal.core.Request.UnsupportedVersion;
import natpmp.service.internal.core.Response.ExternalAddressResponse;
import natpmp.service.internal.core.Response.MapResponse;
import natpmp.service.internal.core.Response.UnsupportedOpcodeResponse;
import natpmp.service.internal.core.Response.UnsupportedVersionResponse;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

/**
 * The NAT-PMP decision logic on the mapping table (RFC 6886 §3). Pure: time (monotonic millis) and
 * randomness come in, response bytes and firewall changes go out. Not thread safe: one owner thread.
 *
 * <h2>Decision table for mapping requests</h2>
 * Checked first, in this order: the client's rate limit (result 4), an external address (3, N7), a bound
 * firewall backend (3). Then (RFC 6886 §3.3 and §3.4):
 * <pre>
 *  internal | lifetime | mapping for (client, proto, port) | action
 *  ---------+----------+-----------------------------------+----------------------------------------------
 *  0        | 0        | any                               | delete all the client's mappings of this
 *           |          |                                   | protocol, suggested port ignored (N20); static
 *           |          |                                   | ones stay and the answer is 2, else 0
 *  0        | &gt; 0      | -                                 | 2 (there is no mapping of port 0 to create)
 *  p        | 0        | none                              | 0, nothing to do: retransmission-safe (N18)
 *  p        | 0        | static                            | 2, request echoed, lifetime 0 (N19)
 *  p        | 0        | NAT-PMP                           | delete; ext port 0, lifetime 0 (N18)
 *  p        | &gt; 0      | static                            | 0 with the static external port (N14)
 *  p        | &gt; 0      | NAT-PMP                           | renew: same external port whatever the
 *           |          |                                   | suggestion, new lifetime (N14, N17)
 *  p        | &gt; 0      | none                              | quota (4), global limit (4), allocate a port
 *           |          |                                   | (suggestion if possible, N11, N12; 2 or 4),
 *           |          |                                   | grant min(requested, max) (N17), create
 * </pre>
 * Failures echo the internal port and send external port and lifetime 0 (N21).
 *
 * <h2>Group commit</h2>
 * A request that changes the kernel (create, delete, delete-all) changes the table at once, so that the
 * next request already sees the port taken or free, and returns {@link Pending} with a ticket and the
 * {@link FirewallChange}. The listener batches the changes of several tickets, applies the batch and then
 * calls {@link #committed} (replies are encoded then, with a fresh SSSoE) or {@link #failed} (the table
 * entries of those tickets are rolled back and the clients get result 3). A request for a key whose change
 * is still pending does not produce a second change: it returns {@link Joined} and is answered when the
 * ticket it joined completes. A renewal of a mapping already in the kernel changes only its expiry and is
 * answered at once ({@link Reply}). Changes no client asked for (expiry, static mappings, administration)
 * come back as {@link InternalChange} tickets that complete the same way.
 *
 * <h2>Renewals without the owner thread</h2>
 * The engine is owned by one thread, but renewals are most of the traffic and change no rule, so it publishes
 * {@link #renewable}: a concurrent view of the NAT-PMP mappings whose rule is in the kernel (no change pending).
 * A receive thread may answer a renewal from it at once and report it with {@link #renewedElsewhere}, which
 * moves the expiry (or, if the mapping went away in between, asks for it again with the port the client was
 * told). The view is updated only at points where the table and the pending changes agree.
 */
public final class NatPmpEngine {
    private static final long MILLIS_PER_SECOND = 1000;
    /**
     * A renewal is answered off the owner thread only while the mapping has at least this much left, so that
     * it cannot meet the mapping's own expiry on the way.
     */
    static final long FAST_RENEWAL_MARGIN_MILLIS = 2000;

    /**
     * A renewal answered without the owner thread.
     *
     * @param reply   the response datagram
     * @param key     the mapping renewed, or null when the answer is a refusal (rate limit)
     * @param port    its external port
     * @param granted the lifetime granted, seconds
     */
    public record FastAnswer(byte[] reply, MappingKey key, int port, long granted) {
    }

    private final MappingTable table = new MappingTable();
    private final GatewayPorts gatewayPorts;
    private final RandomGenerator random;
    private final Epoch epoch;
    private final RateLimiter rateLimiter;
    private final Map<Long, Ticket> pending = new HashMap<>();
    private final Map<MappingKey, Long> pendingByKey = new HashMap<>();
    /** Keys whose expiry moved since {@link #drainRenewed}: the listener saves those lazily. */
    private final Set<MappingKey> renewedKeys = new HashSet<>();
    /** NAT-PMP mappings in the kernel with no change pending; read by other threads, written by the owner. */
    private final ConcurrentHashMap<MappingKey, Lease> renewableView = new ConcurrentHashMap<>();
    /** Volatile: the receive threads read the lifetime policy for the renewals they answer. */
    private volatile EngineSettings settings;
    private PortAllocator allocator;
    private Optional<Inet4Address> externalAddress = Optional.empty();
    private boolean backendAvailable;
    private boolean memoryLow;
    private long nextTicket = 1;
    private long version;

    /**
     * @param settings     protocol settings
     * @param gatewayPorts ports the gateway uses itself (N32)
     * @param random       randomness for port choice
     * @param nowMillis    monotonic now: the epoch starts here
     */
    public NatPmpEngine(EngineSettings settings, GatewayPorts gatewayPorts, RandomGenerator random, long nowMillis) {
        this.gatewayPorts = gatewayPorts;
        this.random = random;
        this.epoch = new Epoch(nowMillis);
        this.rateLimiter = new RateLimiter(settings.ratePerClient(), settings.rateBurst());
        configure(settings);
    }

    /**
     * Applies new settings. Existing mappings keep their ports and lifetimes even when they lie outside the
     * new range or rules; the new settings apply to new requests.
     *
     * @param newSettings the settings
     */
    public void configure(EngineSettings newSettings) {
        this.settings = newSettings;
        this.allocator = new PortAllocator(newSettings.portRange(), newSettings.reserved(), gatewayPorts, random);
        this.rateLimiter.configure(newSettings.ratePerClient(), newSettings.rateBurst());
    }

    /** @return the current settings */
    public EngineSettings settings() {
        return settings;
    }

    /**
     * @param address the external address, empty while there is none (N7)
     */
    public void setExternalAddress(Optional<Inet4Address> address) {
        this.externalAddress = address;
    }

    /** @return the external address, empty while there is none */
    public Optional<Inet4Address> externalAddress() {
        return externalAddress;
    }

    /**
     * @param available whether a firewall backend is bound; without one mapping requests get result 3
     */
    public void setBackendAvailable(boolean available) {
        this.backendAvailable = available;
    }

    /**
     * @param low whether the process is short of memory: new mappings then get result 4 (out of resources, N12)
     *            while renewals and deletions go on
     */
    public void setMemoryLow(boolean low) {
        this.memoryLow = low;
    }

    /** @return whether new mappings are refused for lack of memory */
    public boolean memoryLow() {
        return memoryLow;
    }

    /**
     * @param nowMillis monotonic now
     * @return the Seconds Since Start of Epoch
     */
    public long epochSeconds(long nowMillis) {
        return epoch.seconds(nowMillis);
    }

    /** @return monotonic millis at which the epoch started */
    public long epochStartMillis() {
        return epoch.startMillis();
    }

    /**
     * Restarts the epoch at 0 (N16, N24): call when mapping state was lost.
     *
     * @param nowMillis monotonic now
     */
    public void resetEpoch(long nowMillis) {
        epoch.reset(nowMillis);
    }

    /**
     * Continues an epoch that started earlier (restored from a lease file).
     *
     * @param startMillis monotonic millis of the epoch start, at or before now
     */
    public void continueEpoch(long startMillis) {
        epoch.reset(startMillis);
    }

    /**
     * Handles one request from {@code client}.
     *
     * @param client    the sender (the internal address of any mapping it creates, N13)
     * @param request   the decoded request
     * @param nowMillis monotonic now
     * @return what to do
     */
    public Outcome handle(Inet4Address client, Request request, long nowMillis) {
        if (request instanceof MapRequest m) {
            return handleMap(client, m, nowMillis);
        }
        return stateless(request, externalAddress, epoch.seconds(nowMillis));
    }

    /**
     * Answers the requests that need no mapping table: responses (dropped), unsupported versions and opcodes,
     * and external address requests. Pure and thread safe, so that the listener can answer them on its
     * receive thread from an immutable copy of the external address and the epoch.
     *
     * @param request         any request except a {@link MapRequest}
     * @param externalAddress the external address, empty while there is none
     * @param sssoe           the current Seconds Since Start of Epoch
     * @return what to do
     * @throws IllegalArgumentException for a {@link MapRequest}
     */
    public static Outcome stateless(Request request, Optional<Inet4Address> externalAddress, long sssoe) {
        if (request instanceof ResponseIgnored) {
            return new Drop(); // N3
        }
        if (request instanceof UnsupportedVersion) {
            return reply(new UnsupportedVersionResponse(sssoe)); // N1
        }
        if (request instanceof UnsupportedOpcode u) {
            return reply(new UnsupportedOpcodeResponse(sssoe, u.request())); // N4
        }
        if (request instanceof ExternalAddressRequest) {
            // N6, N7: opcode 0 is answered even when the client is over its rate limit (cheap, no state)
            ResultCode rc = externalAddress.isPresent() ? ResultCode.SUCCESS : ResultCode.NETWORK_FAILURE;
            return reply(new ExternalAddressResponse(rc, sssoe, externalAddress));
        }
        throw new IllegalArgumentException("mapping requests need the table: " + request);
    }

    private Outcome handleMap(Inet4Address sender, MapRequest m, long now) {
        Inet4Address client = table.canonicalClient(sender);
        if (!rateLimiter.tryAcquire(client, now)) {
            return fail(m, ResultCode.OUT_OF_RESOURCES, now);
        }
        if (externalAddress.isEmpty() || !backendAvailable) {
            return fail(m, ResultCode.NETWORK_FAILURE, now); // N7
        }
        if (m.isDeleteAll()) {
            return deleteAll(client, m, now);
        }
        if (m.internalPort() == 0) {
            return fail(m, ResultCode.NOT_AUTHORIZED, now);
        }
        MappingKey key = new MappingKey(client, m.protocol(), m.internalPort());
        if (m.isDelete()) {
            return delete(key, m, now);
        }
        Optional<Lease> existing = table.get(key);
        if (existing.isPresent()) {
            return renew(existing.get(), m, now);
        }
        return create(key, m, now);
    }

    private Outcome delete(MappingKey key, MapRequest m, long now) {
        Optional<Lease> existing = table.get(key);
        Plan success = new Plan(m.protocol(), ResultCode.SUCCESS, m.internalPort(), 0, 0);
        if (existing.isEmpty()) {
            Long awaiting = pendingByKey.get(key);
            if (awaiting != null) {
                return join(awaiting, success); // its removal is still on the way to the kernel
            }
            return reply(success.response(epoch.seconds(now))); // N18: deleting nothing succeeds
        }
        Lease lease = existing.get();
        if (lease.isStatic()) {
            // N19: administrative mappings cannot be deleted by NAT-PMP; echo the request, lifetime 0
            return reply(new MapResponse(m.protocol(), ResultCode.NOT_AUTHORIZED, epoch.seconds(now), m.internalPort(),
                    m.suggestedExternalPort(), 0));
        }
        table.remove(key);
        Ticket t = open(Optional.of(success));
        t.record(key, Optional.of(lease), Optional.empty());
        return new Pending(t.id, FirewallChange.forwards(Set.of(), Set.of(lease.forward())));
    }

    private Outcome deleteAll(Inet4Address client, MapRequest m, long now) {
        boolean staticSeen = false;
        List<Lease> removed = new ArrayList<>();
        for (Lease l : table.of(client, m.protocol())) {
            if (l.isStatic()) {
                staticSeen = true; // N20: delete the rest, answer non-zero
            } else {
                table.remove(l.key());
                removed.add(l);
            }
        }
        ResultCode rc = staticSeen ? ResultCode.NOT_AUTHORIZED : ResultCode.SUCCESS;
        Plan plan = new Plan(m.protocol(), rc, 0, 0, 0);
        if (removed.isEmpty()) {
            return reply(plan.response(epoch.seconds(now)));
        }
        Ticket t = open(Optional.of(plan));
        Set<PortForward> forwards = new LinkedHashSet<>();
        for (Lease l : removed) {
            t.record(l.key(), Optional.of(l), Optional.empty());
            forwards.add(l.forward());
        }
        return new Pending(t.id, FirewallChange.forwards(Set.of(), forwards));
    }

    private Outcome renew(Lease lease, MapRequest m, long now) {
        long granted = settings.lifetimes().grant(m.requestedLifetime());
        if (lease.isStatic()) {
            // N14: a manually configured mapping for this key answers with its port
            return reply(new MapResponse(m.protocol(), ResultCode.SUCCESS, epoch.seconds(now), m.internalPort(),
                    lease.externalPort(), granted));
        }
        // N14: same external port whatever the suggestion; N17: the new lifetime counts from now
        Lease renewed = new Lease(lease.key(), lease.externalPort(), Origin.NATPMP, granted,
                now + granted * MILLIS_PER_SECOND);
        table.put(renewed);
        version++;
        renewed(lease.key());
        syncView(lease.key());
        Plan plan = new Plan(m.protocol(), ResultCode.SUCCESS, m.internalPort(), lease.externalPort(), granted);
        Long awaiting = pendingByKey.get(lease.key());
        if (awaiting != null) {
            return join(awaiting, plan); // retransmission while the rule is on its way: answer with that batch
        }
        return reply(plan.response(epoch.seconds(now)));
    }

    private Outcome create(MappingKey key, MapRequest m, long now) {
        Inet4Address client = key.client();
        if (memoryLow || table.dynamicCountOf(client) >= settings.quotaPerClient()
                || table.dynamicCount() >= settings.globalLimit()) {
            return fail(m, ResultCode.OUT_OF_RESOURCES, now);
        }
        int suggestion = m.suggestedExternalPort();
        if (suggestion == 0) {
            // prefer the port the client already holds for the other protocol (companion, N11)
            Optional<Lease> companion = table.get(new MappingKey(client, m.protocol().companion(), m.internalPort()));
            if (companion.isPresent()) {
                suggestion = companion.get().externalPort();
            }
        }
        Allocation a = allocator.allocate(table, settings.permissions(), client, m.protocol(), m.internalPort(),
                suggestion);
        if (!a.isGranted()) {
            return fail(m, a.result(), now);
        }
        long granted = settings.lifetimes().grant(m.requestedLifetime());
        Lease lease = new Lease(key, a.port(), Origin.NATPMP, granted, now + granted * MILLIS_PER_SECOND);
        table.put(lease);
        Ticket t = open(Optional.of(new Plan(m.protocol(), ResultCode.SUCCESS, m.internalPort(), a.port(), granted)));
        t.record(key, Optional.empty(), Optional.of(lease));
        return new Pending(t.id, FirewallChange.forwards(Set.of(lease.forward()), Set.of()));
    }

    /**
     * The batch holding these tickets is in the kernel: produce their replies (and those of the requests that
     * joined them) with the current SSSoE.
     *
     * @param tickets   tickets of the batch; unknown ones are ignored
     * @param nowMillis monotonic now
     * @return one completion per ticket and per joined request
     */
    public List<Completion> committed(Collection<Long> tickets, long nowMillis) {
        long sssoe = epoch.seconds(nowMillis);
        List<Completion> done = new ArrayList<>();
        for (long id : sorted(tickets, false)) {
            Ticket t = close(id);
            if (t == null) {
                continue;
            }
            t.mods.forEach(mod -> syncView(mod.key));
            done.add(t.plan.map(p -> new Completion(id, p.result, NatPmpCodec.encode(p.response(sssoe))))
                    .orElseGet(() -> new Completion(id, ResultCode.SUCCESS, new byte[0])));
            for (Waiter w : t.waiters) {
                done.add(new Completion(w.ticket, w.plan.result, NatPmpCodec.encode(w.plan.response(sssoe))));
            }
        }
        return done;
    }

    /**
     * The batch holding these tickets failed: roll their table changes back (newest first; an entry changed
     * again since is left alone) and answer result 3 (N7, network failure), internal port echoed, external
     * port and lifetime 0 (N21).
     *
     * @param tickets   tickets of the batch; unknown ones are ignored
     * @param nowMillis monotonic now
     * @return one completion per ticket and per joined request
     */
    public List<Completion> failed(Collection<Long> tickets, long nowMillis) {
        long sssoe = epoch.seconds(nowMillis);
        List<Completion> done = new ArrayList<>();
        for (long id : sorted(tickets, true)) {
            Ticket t = close(id);
            if (t == null) {
                continue;
            }
            for (int i = t.mods.size() - 1; i >= 0; i--) {
                rollback(t.mods.get(i));
            }
            t.mods.forEach(mod -> syncView(mod.key));
            done.add(t.plan.map(p -> new Completion(id, ResultCode.NETWORK_FAILURE,
                    NatPmpCodec.encode(p.failure(sssoe))))
                    .orElseGet(() -> new Completion(id, ResultCode.NETWORK_FAILURE, new byte[0])));
            for (Waiter w : t.waiters) {
                done.add(new Completion(w.ticket, ResultCode.NETWORK_FAILURE, NatPmpCodec.encode(w.plan.failure(sssoe))));
            }
        }
        return done;
    }

    private void rollback(Modification mod) {
        Optional<Lease> current = table.get(mod.key);
        if (mod.after.isPresent()) {
            if (current.isEmpty() || !current.get().sameForward(mod.after.get())) {
                return; // changed again since: the later change decides
            }
            table.remove(mod.key);
        } else if (current.isPresent()) {
            return; // re-created since
        }
        if (mod.before.isPresent()) {
            Lease b = mod.before.get();
            if (table.isAvailable(b.key().client(), b.key().protocol(), b.key().internalPort(), b.externalPort())) {
                table.put(b);
            }
        }
        version++;
    }

    /**
     * Removes the NAT-PMP mappings that expired by {@code nowMillis} (N17).
     *
     * @param nowMillis monotonic now
     * @return the removal to apply, empty when nothing expired
     */
    public Optional<InternalChange> expire(long nowMillis) {
        List<Lease> removed = table.expire(nowMillis);
        return internal(removed, List.of());
    }

    /** @return monotonic millis of the next expiry, empty when none */
    public OptionalLong nextExpiry() {
        return table.nextExpiry();
    }

    /**
     * Makes the static mappings equal to {@code mappings}. A NAT-PMP mapping in the way of a static one (same
     * key or same external port and protocol) is removed: the administrator wins.
     *
     * @param mappings the configured static mappings (no two with the same protocol and external port)
     * @return the change to apply, empty when nothing changed
     */
    public Optional<InternalChange> setStaticMappings(List<StaticMapping> mappings) {
        Map<MappingKey, StaticMapping> wanted = new HashMap<>();
        for (StaticMapping s : mappings) {
            wanted.put(s.key(), s);
        }
        List<Lease> removed = new ArrayList<>();
        List<Lease> added = new ArrayList<>();
        for (Lease l : table.all(Origin.STATIC)) {
            StaticMapping s = wanted.get(l.key());
            if (s == null || s.externalPort() != l.externalPort()) {
                table.remove(l.key());
                removed.add(l);
            }
        }
        for (StaticMapping s : mappings) {
            Optional<Lease> same = table.get(s.key());
            if (same.isPresent() && same.get().isStatic()) {
                continue;
            }
            same.ifPresent(l -> removed.add(table.remove(l.key()).orElseThrow()));
            table.byExternalPort(s.protocol(), s.externalPort())
                    .ifPresent(l -> removed.add(table.remove(l.key()).orElseThrow()));
            Lease lease = new Lease(s.key(), s.externalPort(), Origin.STATIC, 0, Lease.NEVER);
            table.put(lease);
            added.add(lease);
        }
        return internal(removed, added);
    }

    /**
     * Deletes one NAT-PMP mapping for an administrator (static ones come from the configuration and stay).
     *
     * @param key the mapping
     * @return the change to apply, empty when there was nothing to delete
     */
    public Optional<InternalChange> adminDelete(MappingKey key) {
        Optional<Lease> l = table.get(key);
        if (l.isEmpty() || l.get().isStatic()) {
            return Optional.empty();
        }
        table.remove(key);
        return internal(List.of(l.get()), List.of());
    }

    /**
     * Deletes every NAT-PMP mapping of a client, both protocols.
     *
     * @param client the client
     * @return the change to apply, empty when there was nothing to delete
     */
    public Optional<InternalChange> adminDeleteAll(Inet4Address client) {
        List<Lease> removed = new ArrayList<>();
        for (Protocol p : Protocol.values()) {
            for (Lease l : table.of(client, p)) {
                if (!l.isStatic()) {
                    table.remove(l.key());
                    removed.add(l);
                }
            }
        }
        return internal(removed, List.of());
    }

    /**
     * Removes every NAT-PMP mapping (the service is being disabled, N30); static mappings stay.
     *
     * @return the change to apply, empty when there was nothing to remove
     */
    public Optional<InternalChange> flushDynamic() {
        List<Lease> removed = table.all(Origin.NATPMP);
        for (Lease l : removed) {
            table.remove(l.key());
        }
        return internal(removed, List.of());
    }

    /**
     * Puts mappings restored from the lease file into the table as installed (the listener reconciles the
     * whole state to the backend). Leases that expired by now or collide with the table are left out.
     *
     * @param leases    NAT-PMP leases with monotonic expiry
     * @param nowMillis monotonic now
     * @return the leases that could not be restored
     */
    public List<Lease> restore(List<Lease> leases, long nowMillis) {
        List<Lease> rejected = new ArrayList<>();
        for (Lease l : leases) {
            MappingKey k = l.key();
            if (l.isStatic() || l.expiresAt() <= nowMillis || table.get(k).isPresent()
                    || !table.isAvailable(k.client(), k.protocol(), k.internalPort(), l.externalPort())) {
                rejected.add(l);
            } else {
                table.put(l);
                syncView(k);
            }
        }
        version++;
        return rejected;
    }

    /**
     * @param key a mapping key
     * @return the mapping for that key, if any (pending ones included)
     */
    public Optional<Lease> lease(MappingKey key) {
        return table.get(key);
    }

    /** @return how many mappings the table holds (static ones included) */
    public int size() {
        return table.size();
    }

    /**
     * Hands out the NAT-PMP mappings renewed since the last call (only their expiry moved), so that they can
     * be saved lazily, and forgets them; keys with a change still on its way to the kernel are kept for a
     * later call. Cost is proportional to the renewals, not to the table.
     *
     * @return the current leases of the renewed keys that still exist
     */
    public List<Lease> drainRenewed() {
        if (renewedKeys.isEmpty()) {
            return List.of();
        }
        List<Lease> out = new ArrayList<>(renewedKeys.size());
        for (var it = renewedKeys.iterator(); it.hasNext();) {
            MappingKey k = it.next();
            if (pendingByKey.containsKey(k)) {
                continue; // its rule may still fail and be rolled back: hand it out once the ticket completes
            }
            it.remove();
            Lease l = table.get(k).orElse(null);
            if (l != null && !l.isStatic()) {
                out.add(l);
            }
        }
        return out;
    }

    /** @return whether renewals wait for {@link #drainRenewed} */
    public boolean hasRenewed() {
        return !renewedKeys.isEmpty();
    }

    private void renewed(MappingKey key) {
        renewedKeys.add(key);
    }

    /** Puts {@code key} in the renewable view exactly when its mapping is a NAT-PMP one with no change pending. */
    private void syncView(MappingKey key) {
        Lease l = table.get(key).orElse(null);
        if (l != null && !l.isStatic() && !pendingByKey.containsKey(key)) {
            renewableView.put(key, l);
        } else {
            renewableView.remove(key);
        }
    }

    /**
     * Thread safe: the NAT-PMP mapping for {@code key} if its rule is in the kernel and no change of it is on
     * the way. Its expiry may be a little behind (renewals answered elsewhere move it later).
     *
     * @param key a mapping key
     * @return the mapping, or null
     */
    public Lease renewable(MappingKey key) {
        return renewableView.get(key);
    }

    /**
     * Thread safe: answers {@code m} at once if it renews a mapping whose rule is in the kernel (N14: same
     * external port; N17: lifetime from the policy), or refuses it if the client is over its rate limit. The
     * caller has checked what the owner would check first: the service is enabled, there is an external address
     * and a backend (N7), the client is on a LAN (N15). The caller must report a renewal with
     * {@link #renewedElsewhere} on the owner thread.
     *
     * @param client    the sender
     * @param m         the request
     * @param nowMillis monotonic now
     * @param sssoe     the current Seconds Since Start of Epoch
     * @return the answer, or empty when the request must go to the owner thread
     */
    public Optional<FastAnswer> answerRenewal(Inet4Address client, MapRequest m, long nowMillis, long sssoe) {
        if (m.isDelete() || m.internalPort() == 0) {
            return Optional.empty();
        }
        MappingKey key = new MappingKey(client, m.protocol(), m.internalPort());
        Lease lease = renewableView.get(key);
        if (lease == null || lease.expiresAt() - nowMillis < FAST_RENEWAL_MARGIN_MILLIS) {
            return Optional.empty();
        }
        if (!rateLimiter.tryAcquire(client, nowMillis)) {
            return Optional.of(new FastAnswer(NatPmpCodec.encode(new MapResponse(m.protocol(),
                    ResultCode.OUT_OF_RESOURCES, sssoe, m.internalPort(), 0, 0)), null, 0, 0)); // N21
        }
        long granted = settings.lifetimes().grant(m.requestedLifetime());
        return Optional.of(new FastAnswer(NatPmpCodec.encode(new MapResponse(m.protocol(), ResultCode.SUCCESS, sssoe,
                m.internalPort(), lease.externalPort(), granted)), key, lease.externalPort(), granted));
    }

    /**
     * A renewal was answered by another thread from {@link #renewable}: extends the mapping by the lifetime the
     * client was granted, counted from when it was answered. If the mapping is gone by now (it expired or was
     * deleted in between), the client still holds our answer, so the mapping is asked for again with the port
     * it was told; that change comes back for the firewall like any other.
     *
     * @param key        the mapping
     * @param port       the external port the client was told
     * @param granted    the lifetime the client was told, seconds
     * @param answeredAt monotonic millis of the answer
     * @return the change to apply when the mapping had to be made again, else empty
     */
    public Optional<InternalChange> renewedElsewhere(MappingKey key, int port, long granted, long answeredAt) {
        Optional<Lease> current = table.get(key);
        if (current.isPresent()) {
            Lease l = current.get();
            long expiresAt = answeredAt + granted * MILLIS_PER_SECOND;
            if (l.isStatic() || l.externalPort() != port) {
                return Optional.empty(); // replaced meanwhile: that mapping's own requests decide
            }
            // the lifetime counts from the answer, shorter or longer than before (N17), as on the owner thread
            table.put(new Lease(key, port, Origin.NATPMP, granted, expiresAt));
            version++;
            renewed(key);
            syncView(key);
            return Optional.empty();
        }
        if (!table.isAvailable(key.client(), key.protocol(), key.internalPort(), port)) {
            return Optional.empty(); // someone else holds that port now; the client's next renewal gets another
        }
        Lease lease = new Lease(key, port, Origin.NATPMP, granted, answeredAt + granted * MILLIS_PER_SECOND);
        table.put(lease);
        return internal(List.of(), List.of(lease));
    }

    /** @return every mapping, ordered by client, protocol and internal port */
    public List<Lease> leases() {
        return table.all();
    }

    /** @return the forwards the kernel must hold: every mapping in the table, pending ones included */
    public Set<PortForward> desiredForwards() {
        Set<PortForward> forwards = new HashSet<>();
        for (Lease l : table.all()) {
            forwards.add(l.forward());
        }
        return forwards;
    }

    /** @return whether tickets are waiting for {@link #committed} or {@link #failed} */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /** @return a counter that moves whenever the table changes (renewals included): when to save leases */
    public long version() {
        return version;
    }

    /** @return the table, for reading only (tests and snapshots) */
    MappingTable table() {
        return table;
    }

    private Optional<InternalChange> internal(List<Lease> removed, List<Lease> added) {
        if (removed.isEmpty() && added.isEmpty()) {
            return Optional.empty();
        }
        Ticket t = open(Optional.empty());
        Set<PortForward> remove = new LinkedHashSet<>();
        Set<PortForward> add = new LinkedHashSet<>();
        for (Lease l : removed) {
            t.record(l.key(), Optional.of(l), Optional.empty());
            remove.add(l.forward());
        }
        for (Lease l : added) {
            t.record(l.key(), Optional.empty(), Optional.of(l));
            add.add(l.forward());
        }
        return Optional.of(new InternalChange(t.id, FirewallChange.forwards(add, remove), removed, added));
    }

    private static Reply reply(Response r) {
        return new Reply(NatPmpCodec.encode(r));
    }

    private Reply fail(MapRequest m, ResultCode rc, long now) {
        return reply(new MapResponse(m.protocol(), rc, epoch.seconds(now), m.internalPort(), 0, 0)); // N21
    }

    private Joined join(long awaiting, Plan plan) {
        long id = nextTicket++;
        pending.get(awaiting).waiters.add(new Waiter(id, plan));
        return new Joined(id, awaiting);
    }

    private Ticket open(Optional<Plan> plan) {
        Ticket t = new Ticket(nextTicket++, plan);
        pending.put(t.id, t);
        version++;
        return t;
    }

    private Ticket close(long id) {
        Ticket t = pending.remove(id);
        if (t != null) {
            for (Modification m : t.mods) {
                pendingByKey.remove(m.key, id);
            }
        }
        return t;
    }

    private static List<Long> sorted(Collection<Long> ids, boolean newestFirst) {
        List<Long> list = new ArrayList<>(new LinkedHashSet<>(ids));
        list.sort(newestFirst ? Comparator.reverseOrder() : Comparator.naturalOrder());
        return list;
    }

    /** What to answer once a ticket completes. */
    private record Plan(Protocol protocol, ResultCode result, int internalPort, int externalPort, long lifetime) {
        MapResponse response(long sssoe) {
            return new MapResponse(protocol, result, sssoe, internalPort, externalPort, lifetime);
        }

        MapResponse failure(long sssoe) {
            return new MapResponse(protocol, ResultCode.NETWORK_FAILURE, sssoe, internalPort, 0, 0);
        }
    }

    private record Waiter(long ticket, Plan plan) {
    }

    private record Modification(MappingKey key, Optional<Lease> before, Optional<Lease> after) {
    }

    private final class Ticket {
        final long id;
        final Optional<Plan> plan;
        final List<Modification> mods = new ArrayList<>();
        final List<Waiter> waiters = new ArrayList<>();

        Ticket(long id, Optional<Plan> plan) {
            this.id = id;
            this.plan = plan;
        }

        void record(MappingKey key, Optional<Lease> before, Optional<Lease> after) {
            mods.add(new Modification(key, before, after));
            pendingByKey.put(key, id);
            syncView(key);
        }
    }
}
