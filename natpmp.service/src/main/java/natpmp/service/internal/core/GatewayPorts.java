// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

/**
 * Which ports the gateway itself uses (N32); such ports are never handed out. The listener's implementation
 * reads the listening sockets of the host.
 */
@FunctionalInterface
public interface GatewayPorts {
    /** Reports no port as used. */
    GatewayPorts NONE = (protocol, port) -> false;

    /**
     * @param protocol a protocol
     * @param port     a port
     * @return whether the gateway listens on {@code port} for {@code protocol}
     */
    boolean inUse(Protocol protocol, int port);
}
