// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * A live port mapping as readers see it.
 *
 * @param client        the LAN host (internal address)
 * @param protocol      UDP or TCP
 * @param internalPort  the port on the LAN host
 * @param externalPort  the port on the external address
 * @param lifetime      the lifetime granted, in seconds
 * @param remaining     seconds left until it expires (0 for static mappings that never expire)
 * @param origin        who created it
 */
public record Mapping(Inet4Address client, Protocol protocol, int internalPort, int externalPort, long lifetime,
        long remaining, Origin origin) {
    /** Checks every component. */
    public Mapping {
        Ports.nonNull("client", client);
        Ports.nonNull("protocol", protocol);
        Ports.nonNull("origin", origin);
        Ports.require("internalPort", internalPort);
        Ports.require("externalPort", externalPort);
    }
}
