// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.net.Inet4Address;

/**
 * What identifies a mapping: the client (internal address, always the request's source: N13), the
 * protocol and the internal port (RFC 6886 §3.3, N14).
 *
 * <p>A value class rather than a record only to keep the address bits: keys are compared in the table's sorted
 * index on every request, and {@link Inet4Address#getAddress()} copies an array each time.
 */
public final class MappingKey implements Comparable<MappingKey> {
    private final Inet4Address client;
    private final Protocol protocol;
    private final int internalPort;
    private final int clientBits;

    /**
     * @param client       the LAN host
     * @param protocol     UDP or TCP
     * @param internalPort the port on the LAN host, 1..65535
     */
    public MappingKey(Inet4Address client, Protocol protocol, int internalPort) {
        if (client == null || protocol == null) {
            throw new NullPointerException("client and protocol must not be null");
        }
        if (internalPort < 1 || internalPort > 0xffff) {
            throw new IllegalArgumentException("internalPort must be in 1..65535, was " + internalPort);
        }
        this.client = client;
        this.protocol = protocol;
        this.internalPort = internalPort;
        this.clientBits = Addresses.toBits(client);
    }

    /** @return the LAN host */
    public Inet4Address client() {
        return client;
    }

    /** @return UDP or TCP */
    public Protocol protocol() {
        return protocol;
    }

    /** @return the port on the LAN host */
    public int internalPort() {
        return internalPort;
    }

    /** Orders by client address (numerically), protocol, internal port. */
    @Override
    public int compareTo(MappingKey o) {
        int c = Integer.compareUnsigned(clientBits, o.clientBits);
        if (c != 0) {
            return c;
        }
        c = protocol.compareTo(o.protocol);
        return c != 0 ? c : Integer.compare(internalPort, o.internalPort);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MappingKey k && k.clientBits == clientBits && k.protocol == protocol
                && k.internalPort == internalPort;
    }

    @Override
    public int hashCode() {
        return (clientBits * 31 + protocol.ordinal()) * 65537 + internalPort;
    }

    @Override
    public String toString() {
        return protocol.keyword() + " " + client.getHostAddress() + ":" + internalPort;
    }
}
