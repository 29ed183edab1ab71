// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Tells whether the heap is nearly full of live data: the old generation's usage right after its last collection
 * (what survived) above {@value #HIGH_PERCENT} % of its maximum, and again below {@value #LOW_PERCENT} % before
 * it counts as free (hysteresis). The listener then answers new mappings with "out of resources" instead of
 * running into an {@link OutOfMemoryError}. Cheap enough to ask often (a management bean read).
 */
public final class HeapWatch implements BooleanSupplier {
    /** Above this share of the old generation, live after a collection, new mappings are refused. */
    static final int HIGH_PERCENT = 85;
    /** Below this share they are accepted again. */
    static final int LOW_PERCENT = 75;

    private final Optional<MemoryPoolMXBean> oldGeneration;
    private volatile boolean low;

    /** Watches the heap pool whose usage after a collection the JVM reports (the old generation). */
    public HeapWatch() {
        this.oldGeneration = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP && p.isCollectionUsageThresholdSupported())
                .filter(p -> !p.getName().contains("Eden") && !p.getName().contains("Survivor"))
                .findFirst();
    }

    /** @return whether new mappings should be refused now */
    @Override
    public boolean getAsBoolean() {
        if (oldGeneration.isEmpty()) {
            return false;
        }
        MemoryUsage afterGc = oldGeneration.get().getCollectionUsage();
        if (afterGc == null || afterGc.getMax() <= 0) {
            return false;
        }
        low = next(low, afterGc.getUsed(), afterGc.getMax());
        return low;
    }

    /**
     * @param low  the current answer
     * @param used bytes in use after the last collection
     * @param max  the pool's maximum
     * @return the new answer
     */
    static boolean next(boolean low, long used, long max) {
        long percent = used * 100 / max;
        return low ? percent >= LOW_PERCENT : percent > HIGH_PERCENT;
    }
}
