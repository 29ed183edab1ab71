// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Origin;
import natpmp.api.PortForward;

/**
 * One entry of the mapping table.
 *
 * @param key          client, protocol, internal port
 * @param externalPort the external port, 1..65535
 * @param origin       NAT-PMP or static (static ones never expire and NAT-PMP cannot delete them, N19)
 * @param lifetime     the lifetime granted, seconds (0 for static mappings)
 * @param expiresAt    monotonic millis of expiry; {@link #NEVER} for static mappings
 */
public record Lease(MappingKey key, int externalPort, Origin origin, long lifetime, long expiresAt) {
    /** Expiry of mappings that never expire. */
    public static final long NEVER = Long.MAX_VALUE;

    /** Checks every component. */
    public Lease {
        if (key == null || origin == null) {
            throw new NullPointerException("key and origin must not be null");
        }
        if (externalPort < 1 || externalPort > 0xffff) {
            throw new IllegalArgumentException("externalPort must be in 1..65535, was " + externalPort);
        }
        NatPmpCodec.checkU32("lifetime", lifetime);
    }

    /** @return whether this mapping is administrative (static) */
    public boolean isStatic() {
        return origin == Origin.STATIC;
    }

    /**
     * @param nowMillis monotonic now
     * @return whole seconds left (rounded up), 0 for static mappings and expired ones
     */
    public long remainingSeconds(long nowMillis) {
        if (expiresAt == NEVER || expiresAt <= nowMillis) {
            return 0;
        }
        return (expiresAt - nowMillis + 999) / 1000;
    }

    /** @return the firewall forward this mapping needs */
    public PortForward forward() {
        return new PortForward(key.protocol(), externalPort, key.client(), key.internalPort());
    }

    /**
     * @param other another lease
     * @return whether both describe the same forward (lifetime and expiry may differ)
     */
    public boolean sameForward(Lease other) {
        return key.equals(other.key) && externalPort == other.externalPort && origin == other.origin;
    }

    @Override
    public String toString() {
        return key + " -> " + externalPort + " (" + origin + (isStatic() ? "" : ", " + lifetime + " s") + ")";
    }
}
