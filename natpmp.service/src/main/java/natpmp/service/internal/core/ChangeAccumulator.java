// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.FirewallChange;
import natpmp.api.PortForward;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Composes several changes, in order, into one batch with the same net effect. Needed because
 * {@link FirewallChange} applies removals before additions: a forward added and then removed within one
 * batch must simply vanish, not be installed. Not thread safe.
 */
public final class ChangeAccumulator {
    private final Set<PortForward> add = new LinkedHashSet<>();
    private final Set<PortForward> remove = new LinkedHashSet<>();

    /**
     * Appends a change after those already added.
     *
     * @param change the next change
     */
    public void append(FirewallChange change) {
        for (PortForward f : change.removeForwards()) {
            if (!add.remove(f)) { // added in this batch: never reached the kernel, just forget it
                remove.add(f);
            }
        }
        for (PortForward f : change.addForwards()) {
            if (!remove.remove(f)) { // removed earlier in this batch: it is still installed, keep it
                add.add(f);
            }
        }
    }

    /** @return whether nothing was accumulated (or everything cancelled out) */
    public boolean isEmpty() {
        return add.isEmpty() && remove.isEmpty();
    }

    /** @return the composed change */
    public FirewallChange build() {
        return FirewallChange.forwards(add, remove);
    }

    /** Forgets everything. */
    public void clear() {
        add.clear();
        remove.clear();
    }
}
