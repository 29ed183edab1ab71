// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

/**
 * Global settings of the mapper (the kernel module's parameters and our decisions).
 *
 * @param defaultTtlSeconds ttl of rules without their own (module parameter {@code default_ttl}, D6)
 * @param dnatExpired       whether expired but not yet reclaimed bindings still DNAT (kernel: yes, D8)
 * @param kernelLasthit     print {@code lasthit} with the kernel formula {@code (stamp - default_ttl)} (D15)
 *                          instead of the monotonic second of the last hit
 */
public record NetmapSettings(long defaultTtlSeconds, boolean dnatExpired, boolean kernelLasthit) {
    /** The kernel's defaults: 600 s, expired bindings DNAT, monotonic lasthit. */
    public static final NetmapSettings DEFAULTS = new NetmapSettings(600, true, false);

    /** Checks the components. */
    public NetmapSettings {
        if (defaultTtlSeconds < 0 || defaultTtlSeconds > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("default_ttl must be in 0.." + Integer.MAX_VALUE + ", was "
                    + defaultTtlSeconds);
        }
    }
}
