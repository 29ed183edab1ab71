// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Origin;
import natpmp.api.Protocol;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The mapping table: one entry per (client, protocol, internal port), one external port per entry.
 *
 * <p>Indexes by external port and by expiry keep every operation logarithmic. Not thread safe: it belongs
 * to the listener's event loop. Time is passed in (monotonic millis).
 *
 * <p><b>Companion port</b> (RFC 6886 §3.3, N11): while client A holds external port X for protocol P, no
 * other client may get X for the other protocol; A may, for the same internal port only. See
 * {@link #isAvailable}.
 */
public final class MappingTable {
    private static final Comparator<Lease> BY_EXPIRY = Comparator.comparingLong(Lease::expiresAt)
            .thenComparing(Lease::key);

    private final TreeMap<MappingKey, Lease> byKey = new TreeMap<>();
    /**
     * Indexed by {@link #externalIndex}: half a megabyte, less than a hash map needs for ten thousand mappings
     * (node and boxed key: about 60 bytes each).
     */
    private final Lease[] byExternal = new Lease[2 << 16];
    private final NavigableSet<Lease> byExpiry = new TreeSet<>(BY_EXPIRY);
    /** Per client with NAT-PMP mappings: how many, and the one address object all its keys share. */
    private final Map<Inet4Address, ClientMappings> dynamicPerClient = new HashMap<>();

    private static final class ClientMappings {
        final Inet4Address address;
        int count;

        ClientMappings(Inet4Address address) {
            this.address = address;
        }
    }
    /** External ports held for either protocol: lets the allocator skip taken runs word by word. */
    private final BitSet heldAnyProtocol = new BitSet(0x10000);
    private int dynamicCount;

    /**
     * @param key a mapping key
     * @return the mapping, if present
     */
    public Optional<Lease> get(MappingKey key) {
        return Optional.ofNullable(byKey.get(key));
    }

    /**
     * @param protocol     a protocol
     * @param externalPort an external port
     * @return the mapping holding that port for that protocol, if any
     */
    public Optional<Lease> byExternalPort(Protocol protocol, int externalPort) {
        return Optional.ofNullable(byExternal[externalIndex(protocol, externalPort)]);
    }

    /**
     * Whether {@code client} may receive {@code externalPort} for {@code protocol} on {@code internalPort}:
     * the port must be free for the protocol, and the companion port of the other protocol must be free or
     * held by the same client for the same internal port (N11).
     *
     * @param client       the requesting client
     * @param protocol     the requested protocol
     * @param internalPort the requested internal port
     * @param externalPort the candidate external port
     * @return whether the port can be given
     */
    public boolean isAvailable(Inet4Address client, Protocol protocol, int internalPort, int externalPort) {
        if (byExternal[externalIndex(protocol, externalPort)] != null) {
            return false;
        }
        Lease companion = byExternal[externalIndex(protocol.companion(), externalPort)];
        return companion == null
                || companion.key().client().equals(client) && companion.key().internalPort() == internalPort;
    }

    /**
     * @param from a port
     * @return the first port at or above {@code from} that no mapping of either protocol holds (may be
     *         65536 when there is none)
     */
    public int nextPortHeldByNone(int from) {
        return heldAnyProtocol.nextClearBit(from);
    }

    /**
     * Inserts or replaces the mapping for {@code lease.key()}.
     *
     * @param lease the new mapping
     * @return the mapping it replaced, if any
     * @throws IllegalStateException if another key holds the external port for the protocol
     */
    public Optional<Lease> put(Lease lease) {
        Lease holder = byExternal[externalIndex(lease.key().protocol(), lease.externalPort())];
        if (holder != null && !holder.key().equals(lease.key())) {
            throw new IllegalStateException("external port " + lease.externalPort() + " is held by " + holder);
        }
        Lease same = byKey.get(lease.key());
        if (same != null && same.sameForward(lease)) {
            // a renewal: only the expiry moves, so only the expiry index changes (no counts, no port index)
            byKey.put(lease.key(), lease);
            byExternal[externalIndex(lease.key().protocol(), lease.externalPort())] = lease;
            if (!lease.isStatic()) {
                byExpiry.remove(same);
                byExpiry.add(lease);
            }
            return Optional.of(same);
        }
        Optional<Lease> previous = remove(lease.key());
        byKey.put(lease.key(), lease);
        byExternal[externalIndex(lease.key().protocol(), lease.externalPort())] = lease;
        heldAnyProtocol.set(lease.externalPort());
        if (!lease.isStatic()) {
            byExpiry.add(lease);
            dynamicPerClient.computeIfAbsent(lease.key().client(), ClientMappings::new).count++;
            dynamicCount++;
        }
        return previous;
    }

    /**
     * @param key a mapping key
     * @return the removed mapping, if there was one
     */
    public Optional<Lease> remove(MappingKey key) {
        Lease old = byKey.remove(key);
        if (old == null) {
            return Optional.empty();
        }
        byExternal[externalIndex(key.protocol(), old.externalPort())] = null;
        if (byExternal[externalIndex(key.protocol().companion(), old.externalPort())] == null) {
            heldAnyProtocol.clear(old.externalPort());
        }
        if (!old.isStatic()) {
            byExpiry.remove(old);
            dynamicPerClient.computeIfPresent(key.client(), (c, m) -> --m.count == 0 ? null : m);
            dynamicCount--;
        }
        return Optional.of(old);
    }

    /**
     * Removes every NAT-PMP mapping whose expiry is at or before {@code nowMillis} (N17: a mapping MUST be
     * deleted when it expires).
     *
     * @param nowMillis monotonic now
     * @return the removed mappings, earliest first
     */
    public List<Lease> expire(long nowMillis) {
        List<Lease> removed = new ArrayList<>();
        while (!byExpiry.isEmpty() && byExpiry.first().expiresAt() <= nowMillis) {
            Lease first = byExpiry.first();
            remove(first.key());
            removed.add(first);
        }
        return removed;
    }

    /** @return the monotonic millis of the earliest expiry, empty when nothing expires */
    public OptionalLong nextExpiry() {
        return byExpiry.isEmpty() ? OptionalLong.empty() : OptionalLong.of(byExpiry.first().expiresAt());
    }

    /**
     * @param client a client address as a request brought it
     * @return the equal address object the client's mappings already use, or {@code client} if it has none: every
     *         packet brings its own copy, and one per mapping would cost tens of bytes each
     */
    public Inet4Address canonicalClient(Inet4Address client) {
        ClientMappings m = dynamicPerClient.get(client);
        return m == null ? client : m.address;
    }

    /**
     * @param client a client
     * @return how many NAT-PMP (non-static) mappings it holds
     */
    public int dynamicCountOf(Inet4Address client) {
        ClientMappings m = dynamicPerClient.get(client);
        return m == null ? 0 : m.count;
    }

    /** @return how many NAT-PMP (non-static) mappings exist */
    public int dynamicCount() {
        return dynamicCount;
    }

    /** @return how many mappings exist */
    public int size() {
        return byKey.size();
    }

    /**
     * @param client   a client
     * @param protocol a protocol
     * @return the client's mappings of that protocol, ordered by internal port
     */
    public List<Lease> of(Inet4Address client, Protocol protocol) {
        List<Lease> result = new ArrayList<>();
        for (Lease l : byKey.subMap(new MappingKey(client, protocol, 1), true,
                new MappingKey(client, protocol, 0xffff), true).values()) {
            result.add(l);
        }
        return result;
    }

    /** @return every mapping ordered by client, protocol, internal port */
    public List<Lease> all() {
        return List.copyOf(byKey.values());
    }

    /**
     * @param origin an origin
     * @return every mapping of that origin
     */
    public List<Lease> all(Origin origin) {
        List<Lease> result = new ArrayList<>();
        for (Lease l : byKey.values()) {
            if (l.origin() == origin) {
                result.add(l);
            }
        }
        return result;
    }

    /**
     * Removes the given mappings.
     *
     * @param keys keys to remove
     * @return the removed mappings
     */
    public List<Lease> removeAll(Collection<MappingKey> keys) {
        List<Lease> removed = new ArrayList<>();
        for (MappingKey k : keys) {
            remove(k).ifPresent(removed::add);
        }
        return removed;
    }

    private static int externalIndex(Protocol protocol, int port) {
        return protocol.ordinal() << 16 | port;
    }
}
