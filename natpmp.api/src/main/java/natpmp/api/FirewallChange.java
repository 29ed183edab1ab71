// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.util.Set;

/**
 * A batch of changes applied atomically on top of an owner's current state. Removals are applied before
 * additions, so a batch may replace a forward by another one for the same port.
 *
 * @param addForwards     forwards to install
 * @param removeForwards  forwards to remove
 * @param addBindings     host bindings to install
 * @param removeBindings  host bindings to remove
 */
public record FirewallChange(Set<PortForward> addForwards, Set<PortForward> removeForwards,
        Set<HostBinding> addBindings, Set<HostBinding> removeBindings) {
    /** Copies every component. */
    public FirewallChange {
        addForwards = Set.copyOf(addForwards);
        removeForwards = Set.copyOf(removeForwards);
        addBindings = Set.copyOf(addBindings);
        removeBindings = Set.copyOf(removeBindings);
    }

    /**
     * @param add    forwards to install
     * @param remove forwards to remove
     * @return a change of forwards only
     */
    public static FirewallChange forwards(Set<PortForward> add, Set<PortForward> remove) {
        return new FirewallChange(add, remove, Set.of(), Set.of());
    }

    /** @return whether this change does nothing */
    public boolean isEmpty() {
        return addForwards.isEmpty() && removeForwards.isEmpty() && addBindings.isEmpty() && removeBindings.isEmpty();
    }
}
