// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.util.List;

/**
 * The protocol-level settings of {@link NatPmpEngine}; every one of them can change while running.
 *
 * @param portRange      external ports handed out
 * @param reserved       ports never handed out
 * @param lifetimes      lifetime window (N17)
 * @param quotaPerClient NAT-PMP mappings a client may hold; more gives result 4
 * @param globalLimit    NAT-PMP mappings in total; more gives result 4
 * @param ratePerClient  mapping requests per second per client (token refill)
 * @param rateBurst      token bucket size
 * @param permissions    permission rules (N34)
 */
public record EngineSettings(PortRange portRange, List<PortRange> reserved, LifetimePolicy lifetimes, int quotaPerClient,
        int globalLimit, double ratePerClient, double rateBurst, Permissions permissions) {
    /** Checks and copies every component. */
    public EngineSettings {
        reserved = List.copyOf(reserved);
        if (portRange == null || lifetimes == null || permissions == null) {
            throw new NullPointerException("portRange, lifetimes and permissions must not be null");
        }
        if (quotaPerClient < 1 || globalLimit < 1) {
            throw new IllegalArgumentException("quota and limit must be at least 1");
        }
    }

    /** @return defaults: ports 1024-65535, lifetimes 1..86400, quota 256, limit 65536, 100/s burst 200 */
    public static EngineSettings defaults() {
        return new EngineSettings(new PortRange(1024, 65535), List.of(), new LifetimePolicy(1, 86400), 256, 65536,
                100, 200, Permissions.ALLOW_ALL);
    }
}
