// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.net.Inet4Address;
import java.util.Locale;

/**
 * An administrative port forward from the configuration (origin STATIC): never expires, NAT-PMP cannot delete
 * it (N19), and a NAT-PMP request for the same client, protocol and internal port gets its external port
 * (N14).
 *
 * @param protocol     UDP or TCP
 * @param externalPort the external port
 * @param client       the LAN host
 * @param internalPort the port on the LAN host
 */
public record StaticMapping(Protocol protocol, int externalPort, Inet4Address client, int internalPort) {
    /** Checks every component. */
    public StaticMapping {
        if (protocol == null || client == null) {
            throw new NullPointerException("protocol and client must not be null");
        }
        if (externalPort < 1 || externalPort > 0xffff || internalPort < 1 || internalPort > 0xffff) {
            throw new IllegalArgumentException("ports must be in 1..65535");
        }
    }

    /**
     * @param text {@code <tcp|udp> <external-port> <client-ip> <internal-port>}, e.g. {@code tcp 2222 192.168.50.10 22}
     * @return the mapping
     * @throws IllegalArgumentException with a message naming the text
     */
    public static StaticMapping parse(String text) {
        String t = text.strip();
        String[] f = t.split("\\s+");
        if (f.length != 4) {
            throw new IllegalArgumentException("static mapping '" + t
                    + "' must have 4 fields: tcp|udp <external-port> <client-ip> <internal-port>");
        }
        Protocol protocol;
        switch (f[0].toLowerCase(Locale.ROOT)) {
            case "tcp":
                protocol = Protocol.TCP;
                break;
            case "udp":
                protocol = Protocol.UDP;
                break;
            default:
                throw new IllegalArgumentException("static mapping '" + t + "': protocol must be tcp or udp");
        }
        try {
            PortRange ext = PortRange.parse(f[1]);
            PortRange in = PortRange.parse(f[3]);
            if (ext.size() != 1 || in.size() != 1) {
                throw new IllegalArgumentException("ports must be single ports");
            }
            return new StaticMapping(protocol, ext.low(), Addresses.parse(f[2]), in.low());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("static mapping '" + t + "': " + e.getMessage(), e);
        }
    }

    /** @return the table key of this mapping */
    public MappingKey key() {
        return new MappingKey(client, protocol, internalPort);
    }

    @Override
    public String toString() {
        return protocol.keyword() + " " + externalPort + " " + client.getHostAddress() + " " + internalPort;
    }
}
