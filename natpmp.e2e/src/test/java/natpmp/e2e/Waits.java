// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Polling with a deadline. The tests wait for observable conditions (a packet arrived, a port answers), never
 * for a fixed time that is then asserted.
 */
public final class Waits {

    private Waits() {
    }

    /**
     * Polls {@code condition} every {@code interval} until it holds or {@code timeout} passes.
     *
     * @param timeout   the deadline
     * @param interval  the pause between polls
     * @param condition what to wait for
     * @return true when the condition held before the deadline (it is tested once more at the deadline)
     */
    public static boolean until(Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            pause(interval);
        }
        return condition.getAsBoolean();
    }

    /**
     * Sleeps between polls (never used to assert timing).
     *
     * @param duration how long
     */
    public static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }
}
