// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;

/**
 * The part of a {@link FirewallChange} that really changes the kernel: removals of what is installed and
 * additions of what is not (after the removals), each in a stable order. Costs O(size of the change), never
 * O(size of the state).
 *
 * @param removeForwards forwards to delete
 * @param removeBindings bindings to delete
 * @param addForwards    forwards to append
 * @param addBindings    bindings to insert
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
     * @param change   the requested batch; removals apply before additions ({@link FirewallChange})
     * @return what must be deleted and added
     */
    public static Delta of(Set<PortForward> forwards, Set<HostBinding> bindings, FirewallChange change) {
        List<PortForward> removeF = present(change.removeForwards(), forwards, Order.FORWARDS);
        List<HostBinding> removeB = present(change.removeBindings(), bindings, Order.BINDINGS);
        List<PortForward> addF = new ArrayList<>();
        for (PortForward f : change.addForwards()) {
            if (!forwards.contains(f) || change.removeForwards().contains(f)) {
                addF.add(f);
            }
        }
        List<HostBinding> addB = new ArrayList<>();
        for (HostBinding b : change.addBindings()) {
            if (!bindings.contains(b) || change.removeBindings().contains(b)) {
                addB.add(b);
            }
        }
        addF.sort(Order.FORWARDS);
        addB.sort(Order.BINDINGS);
        return new Delta(removeF, removeB, addF, addB);
    }

    private static <T> List<T> present(Collection<T> requested, Set<T> installed, Comparator<T> order) {
        List<T> result = new ArrayList<>();
        for (T t : requested) {
            if (installed.contains(t)) {
                result.add(t);
            }
        }
        result.sort(order);
        return result;
    }

    /** @return whether the kernel need not be touched */
    public boolean isEmpty() {
        return removeForwards.isEmpty() && removeBindings.isEmpty() && addForwards.isEmpty() && addBindings.isEmpty();
    }

    /**
     * Applies this delta to the owner's sets in place.
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
