// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.time.Duration;

/**
 * The backend's validated configuration.
 *
 * @param variant       which iptables flavour to drive
 * @param timeout       how long one iptables command may run
 * @param watchInterval how often the watchdog checks our chains; {@link Duration#ZERO} turns it off
 */
public record IptablesSettings(Variant variant, Duration timeout, Duration watchInterval) {
    /** Shortest accepted command timeout: iptables-restore may wait for the xtables lock. */
    public static final long MIN_TIMEOUT_MS = 100;
    /** Longest accepted command timeout. */
    public static final long MAX_TIMEOUT_MS = 600_000;
    /** Shortest watchdog interval: each check runs iptables-save three times. */
    public static final long MIN_WATCH_MS = 100;
    /** Longest watchdog interval. */
    public static final long MAX_WATCH_MS = 3_600_000;

    /** Checks every component. */
    public IptablesSettings {
        if (variant == null || timeout == null || watchInterval == null) {
            throw new NullPointerException("variant, timeout and watchInterval must not be null");
        }
    }

    /**
     * Validates raw configuration values.
     *
     * @param variant         the variant
     * @param timeoutMs       {@code timeout.ms}
     * @param watchIntervalMs {@code watch.interval.ms}, 0 to turn the watchdog off
     * @return the settings
     * @throws IllegalArgumentException naming the key and the accepted range if a value is out of range
     */
    public static IptablesSettings of(Variant variant, long timeoutMs, long watchIntervalMs) {
        if (variant == null) {
            throw new IllegalArgumentException("variant must be one of AUTO, NFT, LEGACY");
        }
        if (timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("timeout.ms must be in " + MIN_TIMEOUT_MS + ".." + MAX_TIMEOUT_MS
                    + ", was " + timeoutMs);
        }
        if (watchIntervalMs != 0 && (watchIntervalMs < MIN_WATCH_MS || watchIntervalMs > MAX_WATCH_MS)) {
            throw new IllegalArgumentException("watch.interval.ms must be 0 (off) or in " + MIN_WATCH_MS + ".."
                    + MAX_WATCH_MS + ", was " + watchIntervalMs);
        }
        return new IptablesSettings(variant, Duration.ofMillis(timeoutMs), Duration.ofMillis(watchIntervalMs));
    }
}
