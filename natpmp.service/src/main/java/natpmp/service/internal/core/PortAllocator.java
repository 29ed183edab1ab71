// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.net.Inet4Address;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Chooses external ports inside {@code [low, high]} (RFC 6886 §3.3, N12).
 *
 * <ul>
 * <li>Suggestion 0: the probe starts at a pseudo-random port of the high, dynamic part of the range
 * (49152 and above when the range reaches there, else anywhere in the range).</li>
 * <li>A suggestion inside the range is tried first. Below {@code low} it is moved up by
 * {@code ((low / 1000) + 1) * 1000} as natpmpd does (80 becomes 2080 with low 1024), so that well-known
 * ports land on memorable ones; above {@code high} (or still outside after that shift) it is folded into the
 * range modulo its size.</li>
 * <li>From the start the probe walks upwards, wrapping at {@code high}, over the whole range. A port is
 * skipped when it is taken for the protocol or its companion is held by someone else (N11), when it lies in
 * a reserved range, when the gateway itself uses it on either protocol (N32; 5350 and 5351 always), or when
 * a permission rule denies it: a denied suggestion makes the allocator try the next port (miniupnpd PR #55).</li>
 * <li>Nothing found: {@link ResultCode#NOT_AUTHORIZED} when some free port was denied by policy (so policy is
 * what stands in the way), otherwise {@link ResultCode#OUT_OF_RESOURCES}.</li>
 * </ul>
 * Not thread safe.
 */
public final class PortAllocator {
    /** Start of the IANA dynamic port range, where suggestion-0 probes start. */
    public static final int DYNAMIC_LOW = 49152;

    private final PortRange range;
    private final List<PortRange> reserved;
    private final GatewayPorts gatewayPorts;
    private final RandomGenerator random;

    /**
     * @param range        ports that may be handed out
     * @param reserved     ports that never are
     * @param gatewayPorts ports the gateway uses itself
     * @param random       randomness for the start of suggestion-0 probes
     */
    public PortAllocator(PortRange range, List<PortRange> reserved, GatewayPorts gatewayPorts, RandomGenerator random) {
        if (range.low() < 1) {
            throw new IllegalArgumentException("port range must start at 1 or above, was " + range);
        }
        this.range = range;
        this.reserved = List.copyOf(reserved);
        this.gatewayPorts = gatewayPorts;
        this.random = random;
    }

    /** @return the range ports are taken from */
    public PortRange range() {
        return range;
    }

    /**
     * @param table        the mapping table (for what is taken)
     * @param permissions  permission rules
     * @param client       the requesting client
     * @param protocol     the protocol
     * @param internalPort the internal port
     * @param suggestion   the suggested external port, 0 for none
     * @return the port, or why none
     */
    public Allocation allocate(MappingTable table, Permissions permissions, Inet4Address client, Protocol protocol,
            int internalPort, int suggestion) {
        int start = startFor(suggestion);
        // The only port held by some mapping that this request may still get: the external port of its own
        // companion mapping (same client and internal port, other protocol, N11). Every other held port is
        // unavailable, so the walk jumps over runs of held ports instead of testing them one by one: the
        // outcome is that of a port-by-port walk, at a cost that does not grow with the table.
        int own = table.get(new MappingKey(client, protocol.companion(), internalPort)).map(Lease::externalPort)
                .orElse(-1);
        boolean[] denied = new boolean[1];
        int port = walk(table, permissions, client, protocol, internalPort, start, range.high(), own, denied);
        if (port < 0 && start > range.low()) {
            port = walk(table, permissions, client, protocol, internalPort, range.low(), start - 1, own, denied);
        }
        if (port >= 0) {
            return Allocation.granted(port);
        }
        return Allocation.refused(denied[0] ? ResultCode.NOT_AUTHORIZED : ResultCode.OUT_OF_RESOURCES);
    }

    /** @return the first grantable port in {@code [from, to]}, -1 if none; sets {@code denied[0]} on a denial */
    private int walk(MappingTable table, Permissions permissions, Inet4Address client, Protocol protocol,
            int internalPort, int from, int to, int own, boolean[] denied) {
        int port = from;
        while (port <= to) {
            int free = table.nextPortHeldByNone(port);
            int candidate = own >= port && own < free ? own : free;
            if (candidate > to) {
                return -1;
            }
            if (!isExcluded(candidate) && table.isAvailable(client, protocol, internalPort, candidate)) {
                if (permissions.allows(client, candidate, internalPort)) {
                    return candidate;
                }
                denied[0] = true;
            }
            port = candidate + 1;
        }
        return -1;
    }

    /**
     * @param suggestion a suggested port, 0 for none
     * @return where the probe starts
     */
    int startFor(int suggestion) {
        int low = range.low();
        int high = range.high();
        if (suggestion == 0) {
            int from = high >= DYNAMIC_LOW ? Math.max(low, DYNAMIC_LOW) : low;
            return from + random.nextInt(high - from + 1);
        }
        int s = suggestion;
        if (s < low) {
            s += ((low / 1000) + 1) * 1000; // natpmpd: 80 -> 2080 with low 1024
        }
        if (s > high || s < low) {
            s = low + Math.floorMod(s - low, range.size());
        }
        return s;
    }

    /**
     * @param port a port
     * @return whether the port is never handed out: our own ports, reserved ranges, the gateway's ports
     */
    public boolean isExcluded(int port) {
        if (port == NatPmpCodec.SERVER_PORT || port == NatPmpCodec.CLIENT_PORT) {
            return true;
        }
        for (PortRange r : reserved) {
            if (r.contains(port)) {
                return true;
            }
        }
        // N32: both protocols, because the companion port of a mapping is reserved for its client too (N11)
        return gatewayPorts.inUse(Protocol.TCP, port) || gatewayPorts.inUse(Protocol.UDP, port);
    }
}
