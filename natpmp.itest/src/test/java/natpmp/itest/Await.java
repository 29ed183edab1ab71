// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import java.time.Duration;
import java.util.function.Supplier;

/** Bounded polling for asynchronous framework events (FileInstall polls, SCR reacts asynchronously). */
final class Await {
    private Await() {
    }

    static <T> T until(String what, Duration limit, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null && !Boolean.FALSE.equals(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit.toMillis() + " ms waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
