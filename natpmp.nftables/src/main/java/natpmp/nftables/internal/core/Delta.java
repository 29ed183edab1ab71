// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;

/**
 * What a {@link FirewallChange} does to the kernel: delete the installed entries it removes, then add the
 * entries it adds that are not installed (or were just removed). Sorted, so the rendered batch is stable.
 * Costs O(size of the change).
 *
 * @param removeForwards forwards whose elements are deleted
 * @param removeBindings bindings whose elements are deleted
 * @param addForwards    forwards whose elements are added
 * @param addBindings    bindings whose elements are added
 */
public record Delta(List<PortForward> removeForwards, List<HostBinding> removeBindings, List<PortForward> addForwards,
        List<HostBinding> addBindings) {
    /** Copies every component. */
    public Delta {
        removeForwards = List.copyOf(removeForwards);
        removeBindings = List.copyOf(removeBindings);
        addForwards = List.copyOf(addForwards);
        addBindings = List.copyOf(addBindings);
    }

    /**
     * @param forwards the owner's installed forwards
     * @param bindings the owner's installed bindings
     * @param change   the batch; removals before additions
     * @return the kernel delta
     */
    public static Delta of(Set<PortForward> forwards, Set<HostBinding> bindings, FirewallChange change) {
        return new Delta(installedOnly(change.removeForwards(), forwards, Order.FORWARDS),
                installedOnly(change.removeBindings(), bindings, Order.BINDINGS),
                additions(change.addForwards(), forwards, change.removeForwards(), Order.FORWARDS),
                additions(change.addBindings(), bindings, change.removeBindings(), Order.BINDINGS));
    }

    private static <T> List<T> installedOnly(Collection<T> requested, Set<T> installed, Comparator<T> order) {
        List<T> out = new ArrayList<>();
        for (T t : requested) {
            if (installed.contains(t)) {
                out.add(t);
            }
        }
        out.sort(order);
        return out;
    }

    private static <T> List<T> additions(Collection<T> requested, Set<T> installed, Set<T> removed,
            Comparator<T> order) {
        List<T> out = new ArrayList<>();
        for (T t : requested) {
            // a removed-and-added entry is deleted first, so it must be added again
            if (!installed.contains(t) || (removed.contains(t))) {
                out.add(t);
            }
        }
        out.sort(order);
        return out;
    }

    /** @return whether the kernel need not be touched */
    public boolean isEmpty() {
        return removeForwards.isEmpty() && removeBindings.isEmpty() && addForwards.isEmpty() && addBindings.isEmpty();
    }

    /**
     * Applies this delta to an owner's sets in place.
     *
     * @param forwards the owner's forwards
     * @param bindings the owner's bindings
     */
    public void applyTo(Set<PortForward> forwards, Set<HostBinding> bindings) {
        removeForwards.forEach(forwards::remove);
        removeBindings.forEach(bindings::remove);
        forwards.addAll(addForwards);
        bindings.addAll(addBindings);
    }
}
