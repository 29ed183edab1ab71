// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * One port forward as a backend installs it: inbound {@code protocol} traffic to the gateway's external
 * address on {@code externalPort} goes to {@code internalAddress:internalPort}; outbound traffic from that
 * internal port leaves with {@code externalPort} (RFC 6886 §3.3 bidirectional mappings), and LAN hosts
 * reach it through the external address too (hairpin).
 *
 * @param protocol        UDP or TCP
 * @param externalPort    port on the external address, 1..65535
 * @param internalAddress the LAN host
 * @param internalPort    port on the LAN host, 1..65535
 */
public record PortForward(Protocol protocol, int externalPort, Inet4Address internalAddress, int internalPort) {
    /** Checks every component. */
    public PortForward {
        Ports.nonNull("protocol", protocol);
        Ports.nonNull("internalAddress", internalAddress);
        Ports.require("externalPort", externalPort);
        Ports.require("internalPort", internalPort);
    }

    @Override
    public String toString() {
        return protocol.keyword() + " " + externalPort + " -> " + internalAddress.getHostAddress() + ":" + internalPort;
    }
}
