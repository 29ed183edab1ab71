// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

/**
 * Seconds Since Start of Epoch (RFC 6886 §3.6, N16), derived from the monotonic time passed in so that wall
 * clock steps do not disturb it. Not thread safe.
 */
public final class Epoch {
    private long startMillis;

    /**
     * @param startMillis monotonic millis at which the epoch started (may lie before the process started
     *                    when the epoch continues from a lease file)
     */
    public Epoch(long startMillis) {
        this.startMillis = startMillis;
    }

    /**
     * @param nowMillis monotonic now
     * @return whole seconds since the epoch started, never negative
     */
    public long seconds(long nowMillis) {
        return seconds(startMillis, nowMillis);
    }

    /**
     * @param startMillis monotonic millis at which the epoch started
     * @param nowMillis   monotonic now
     * @return whole seconds since {@code startMillis}, never negative
     */
    public static long seconds(long startMillis, long nowMillis) {
        return Math.max(0, Math.floorDiv(nowMillis - startMillis, 1000));
    }

    /**
     * Restarts the epoch at 0: mapping state was lost (N16, N24).
     *
     * @param nowMillis monotonic now
     */
    public void reset(long nowMillis) {
        startMillis = nowMillis;
    }

    /** @return monotonic millis of the epoch start */
    public long startMillis() {
        return startMillis;
    }
}
