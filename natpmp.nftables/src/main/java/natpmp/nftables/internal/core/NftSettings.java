// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The nftables backend's validated configuration.
 *
 * @param table         the name of the {@code ip} table the backend owns
 * @param timeout       how long one {@code nft} command may run
 * @param watchInterval how often the watchdog checks the table; {@link Duration#ZERO} turns it off
 * @param engine        how transactions reach the kernel
 */
public record NftSettings(String table, Duration timeout, Duration watchInterval, Engine engine) {
    /** How transactions and listings reach the kernel (config key {@code engine}). */
    public enum Engine {
        /** libnftables in-process when {@code libnftables.so.1} loads, else one {@code nft} process each. */
        AUTO,
        /** libnftables in-process through JNA; activation fails if the library does not load. */
        LIBRARY,
        /** one {@code nft -f -} / {@code nft -j list} process per transaction or listing. */
        PROCESS
    }

    /** The default table name. */
    public static final String DEFAULT_TABLE = "natpmp";
    /** Shortest accepted command timeout. */
    public static final long MIN_TIMEOUT_MS = 100;
    /** Longest accepted command timeout. */
    public static final long MAX_TIMEOUT_MS = 600_000;
    /** Shortest watchdog interval. */
    public static final long MIN_WATCH_MS = 100;
    /** Longest watchdog interval. */
    public static final long MAX_WATCH_MS = 3_600_000;

    /** An nft identifier we are happy to own: no quoting ever needed. */
    private static final Pattern TABLE = Pattern.compile("[a-z][a-z0-9_]{0,31}");

    /** Checks every component. */
    public NftSettings {
        if (table == null || timeout == null || watchInterval == null || engine == null) {
            throw new NullPointerException("table, timeout, watchInterval and engine must not be null");
        }
    }

    /**
     * Validates raw configuration values with the {@link Engine#AUTO} engine.
     *
     * @param table           {@code table}
     * @param timeoutMs       {@code timeout.ms}
     * @param watchIntervalMs {@code watch.interval.ms}, 0 to turn the watchdog off
     * @return the settings
     * @throws IllegalArgumentException naming the key and what is accepted if a value is invalid
     */
    public static NftSettings of(String table, long timeoutMs, long watchIntervalMs) {
        return of(table, timeoutMs, watchIntervalMs, Engine.AUTO.name());
    }

    /**
     * Validates raw configuration values.
     *
     * @param table           {@code table}
     * @param timeoutMs       {@code timeout.ms}
     * @param watchIntervalMs {@code watch.interval.ms}, 0 to turn the watchdog off
     * @param engine          {@code engine}: AUTO, LIBRARY or PROCESS, any case
     * @return the settings
     * @throws IllegalArgumentException naming the key and what is accepted if a value is invalid
     */
    public static NftSettings of(String table, long timeoutMs, long watchIntervalMs, String engine) {
        if (table == null || !TABLE.matcher(table).matches()) {
            throw new IllegalArgumentException("table must be 1 to 32 characters of [a-z0-9_] starting with a letter, was '"
                    + table + "'");
        }
        if (timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("timeout.ms must be in " + MIN_TIMEOUT_MS + ".." + MAX_TIMEOUT_MS
                    + ", was " + timeoutMs);
        }
        if (watchIntervalMs != 0 && (watchIntervalMs < MIN_WATCH_MS || watchIntervalMs > MAX_WATCH_MS)) {
            throw new IllegalArgumentException("watch.interval.ms must be 0 (off) or in " + MIN_WATCH_MS + ".."
                    + MAX_WATCH_MS + ", was " + watchIntervalMs);
        }
        Engine chosen = null;
        for (Engine e : Engine.values()) {
            if (engine != null && e.name().equalsIgnoreCase(engine.strip())) {
                chosen = e;
            }
        }
        if (chosen == null) {
            throw new IllegalArgumentException("engine must be one of AUTO, LIBRARY, PROCESS, was '" + engine + "'");
        }
        return new NftSettings(table, Duration.ofMillis(timeoutMs), Duration.ofMillis(watchIntervalMs), chosen);
    }
}
