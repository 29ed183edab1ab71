// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.net.Inet4Address;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Per-client token buckets: {@code burst} tokens, refilled at {@code ratePerSecond}. Time is passed in.
 * Buckets that are full again are forgotten when the map grows, so memory stays bounded by the number of
 * clients active within one refill period. Thread safe: the listener's receive threads take tokens for the
 * renewals they answer themselves, its event loop for everything else.
 */
public final class RateLimiter {
    private static final int PRUNE_ABOVE = 1024;

    private final Map<Inet4Address, double[]> buckets = new HashMap<>(); // [tokens, lastMillis]
    private double ratePerSecond;
    private double burst;

    /**
     * @param ratePerSecond tokens added per second, more than 0
     * @param burst         bucket size, at least 1
     */
    public RateLimiter(double ratePerSecond, double burst) {
        configure(ratePerSecond, burst);
    }

    /**
     * Changes the rate and burst; existing buckets keep their tokens (capped to the new burst).
     *
     * @param ratePerSecond tokens added per second, more than 0
     * @param burst         bucket size, at least 1
     */
    public synchronized void configure(double ratePerSecond, double burst) {
        if (!(ratePerSecond > 0) || !(burst >= 1) || Double.isInfinite(ratePerSecond) || Double.isInfinite(burst)) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1, were " + ratePerSecond + " and " + burst);
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
    }

    /**
     * Takes one token from the client's bucket.
     *
     * @param client    the client
     * @param nowMillis monotonic now
     * @return whether a token was available
     */
    public synchronized boolean tryAcquire(Inet4Address client, long nowMillis) {
        double[] b = buckets.get(client);
        if (b == null) {
            if (buckets.size() >= PRUNE_ABOVE) {
                prune(nowMillis);
            }
            b = new double[] {burst, nowMillis};
            buckets.put(client, b);
        }
        refill(b, nowMillis);
        if (b[0] >= 1) {
            b[0] -= 1;
            return true;
        }
        return false;
    }

    private void refill(double[] b, long nowMillis) {
        double elapsed = Math.max(0, nowMillis - (long) b[1]) / 1000.0;
        b[0] = Math.min(burst, b[0] + elapsed * ratePerSecond);
        b[1] = Math.max(b[1], nowMillis);
    }

    private void prune(long nowMillis) {
        for (Iterator<double[]> it = buckets.values().iterator(); it.hasNext();) {
            double[] b = it.next();
            refill(b, nowMillis);
            if (b[0] >= burst) {
                it.remove();
            }
        }
    }

    /** @return how many clients are tracked (for tests) */
    synchronized int tracked() {
        return buckets.size();
    }
}
