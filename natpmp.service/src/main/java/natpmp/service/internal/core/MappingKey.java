// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.net.Inet4Address;
import java.util.Comparator;

/**
 * What identifies a mapping: the client (internal address, always the request's source: N13), the
 * protocol and the internal port (RFC 6886 §3.3, N14).
 *
 * @param client       the LAN host
 * @param protocol     UDP or TCP
 * @param internalPort the port on the LAN host, 1..65535
 */
public record MappingKey(Inet4Address client, Protocol protocol, int internalPort) implements Comparable<MappingKey> {
    private static final Comparator<MappingKey> ORDER = Comparator
            .comparingLong((MappingKey k) -> Addresses.toUnsigned(k.client))
            .thenComparing(MappingKey::protocol)
            .thenComparingInt(MappingKey::internalPort);

    /** Checks every component. */
    public MappingKey {
        if (client == null || protocol == null) {
            throw new NullPointerException("client and protocol must not be null");
        }
        if (internalPort < 1 || internalPort > 0xffff) {
            throw new IllegalArgumentException("internalPort must be in 1..65535, was " + internalPort);
        }
    }

    /** Orders by client address (numerically), protocol, internal port. */
    @Override
    public int compareTo(MappingKey o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return protocol.keyword() + " " + client.getHostAddress() + ":" + internalPort;
    }
}
