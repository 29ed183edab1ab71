// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;

/**
 * What one owner's installed state occupies: external ports, internal targets and binding addresses, so a
 * {@link Delta} is checked in O(size of the change) against the rules {@link NftScript#requireValid} checks on
 * a whole state (same messages). Rebuilding and re-checking a 10,000-forward state on every single-element batch
 * costs milliseconds, more than libnftables needs for the batch itself.
 *
 * <p>Mutable and not thread-safe: owned by the firewall's lock, next to the owner's state it mirrors.
 */
public final class Claims {
    private record External(Protocol protocol, int port) {
    }

    private record Internal(Inet4Address address, Protocol protocol, int port) {
    }

    private final Map<External, PortForward> external = new HashMap<>();
    private final Map<Internal, PortForward> internal = new HashMap<>();
    private final Map<Inet4Address, HostBinding> bindingInternal = new HashMap<>();
    private final Map<Inet4Address, HostBinding> bindingExternal = new HashMap<>();

    private Claims() {
    }

    /**
     * @param state a state that passed {@link NftScript#requireValid}
     * @return what it occupies
     */
    public static Claims of(FirewallState state) {
        Claims c = new Claims();
        state.forwards().forEach(c::put);
        state.bindings().forEach(c::put);
        return c;
    }

    private static External external(PortForward f) {
        return new External(f.protocol(), f.externalPort());
    }

    private static Internal internal(PortForward f) {
        return new Internal(f.internalAddress(), f.protocol(), f.internalPort());
    }

    /**
     * Checks that the installed state with {@code delta} applied still has no two forwards on one external port
     * or one internal target and no two bindings sharing an address.
     *
     * @param delta the change, as {@link Delta#of} computed it against the installed state
     * @throws IllegalArgumentException naming the clash, as {@link NftScript#requireValid} would
     */
    public void check(Delta delta) {
        Set<PortForward> removedForwards = new HashSet<>(delta.removeForwards());
        Set<HostBinding> removedBindings = new HashSet<>(delta.removeBindings());
        Set<External> addedExternal = new HashSet<>();
        Set<Internal> addedInternal = new HashSet<>();
        for (PortForward f : delta.addForwards()) {
            if (taken(external.get(external(f)), removedForwards) || !addedExternal.add(external(f))) {
                throw new IllegalArgumentException("two forwards use external port " + f.protocol().keyword() + " "
                        + f.externalPort());
            }
            if (taken(internal.get(internal(f)), removedForwards) || !addedInternal.add(internal(f))) {
                throw new IllegalArgumentException("two forwards use internal port " + NftScript.target(f));
            }
        }
        Set<Inet4Address> addedIn = new HashSet<>();
        Set<Inet4Address> addedOut = new HashSet<>();
        for (HostBinding h : delta.addBindings()) {
            if (taken(bindingInternal.get(h.internalAddress()), removedBindings)
                    || taken(bindingExternal.get(h.externalAddress()), removedBindings)
                    || !addedIn.add(h.internalAddress()) || !addedOut.add(h.externalAddress())) {
                throw new IllegalArgumentException("two host bindings share an address: " + h);
            }
        }
    }

    private static <T> boolean taken(T holder, Set<T> removed) {
        return holder != null && !removed.contains(holder);
    }

    /**
     * Records a delta that {@link #check} accepted and the kernel applied.
     *
     * @param delta the change
     */
    public void apply(Delta delta) {
        for (PortForward f : delta.removeForwards()) {
            external.remove(external(f), f);
            internal.remove(internal(f), f);
        }
        for (HostBinding h : delta.removeBindings()) {
            bindingInternal.remove(h.internalAddress(), h);
            bindingExternal.remove(h.externalAddress(), h);
        }
        delta.addForwards().forEach(this::put);
        delta.addBindings().forEach(this::put);
    }

    private void put(PortForward f) {
        external.put(external(f), f);
        internal.put(internal(f), f);
    }

    private void put(HostBinding h) {
        bindingInternal.put(h.internalAddress(), h);
        bindingExternal.put(h.externalAddress(), h);
    }
}
