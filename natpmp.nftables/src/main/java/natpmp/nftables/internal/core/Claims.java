// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
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
    private record Internal(Inet4Address address, Protocol protocol, int port) {
    }

    /**
     * Forwards by external protocol and port ({@link #slot}): half a megabyte once the first forward comes, less
     * than a hash map needs for ten thousand of them. Also the owner's set of forwards ({@link #forwards()}).
     */
    private PortForward[] external;
    private int forwardCount;
    private final Set<PortForward> forwardsView = new AbstractSet<>() {
        @Override
        public boolean contains(Object o) {
            return o instanceof PortForward f && f.equals(holder(f));
        }

        @Override
        public int size() {
            return forwardCount;
        }

        @Override
        public Iterator<PortForward> iterator() {
            return new Iterator<>() {
                private int next = advance(0);

                private int advance(int from) {
                    int i = from;
                    while (external != null && i < external.length && external[i] == null) {
                        i++;
                    }
                    return i;
                }

                @Override
                public boolean hasNext() {
                    return external != null && next < external.length;
                }

                @Override
                public PortForward next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    PortForward f = external[next];
                    next = advance(next + 1);
                    return f;
                }
            };
        }
    };
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

    private static int slot(PortForward f) {
        return f.protocol().ordinal() << 16 | f.externalPort();
    }

    private PortForward holder(PortForward f) {
        return external == null ? null : external[slot(f)];
    }

    /** @return the owner's forwards: a live, read-only view (changed only through {@link #apply}) */
    public Set<PortForward> forwards() {
        return Collections.unmodifiableSet(forwardsView);
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
        Set<Integer> addedExternal = new HashSet<>();
        Set<Internal> addedInternal = new HashSet<>();
        for (PortForward f : delta.addForwards()) {
            if (taken(holder(f), removedForwards) || !addedExternal.add(slot(f))) {
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
            if (f.equals(holder(f))) {
                external[slot(f)] = null;
                forwardCount--;
            }
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
        if (external == null) {
            external = new PortForward[2 << 16];
        }
        if (external[slot(f)] == null) {
            forwardCount++;
        }
        external[slot(f)] = f;
        internal.put(internal(f), f);
    }

    private void put(HostBinding h) {
        bindingInternal.put(h.internalAddress(), h);
        bindingExternal.put(h.externalAddress(), h);
    }
}
