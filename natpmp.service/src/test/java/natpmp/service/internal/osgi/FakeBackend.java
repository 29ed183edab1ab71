// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.PortForward;
import natpmp.api.Topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** In-memory firewall backend: keeps per-owner forwards, records calls, can fail or hold a call. */
final class FakeBackend implements FirewallBackend {
    private final String name;
    private final Map<String, Set<PortForward>> installed = new HashMap<>();
    private final Map<String, Topology> topologies = new HashMap<>();
    private final List<String> calls = new ArrayList<>();
    private volatile boolean failing;
    private volatile CountDownLatch gate;
    private volatile CountDownLatch entered;
    private volatile CountDownLatch releaseGate;

    FakeBackend(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void reconcile(String owner, FirewallState desired) throws FirewallException {
        pass("reconcile");
        synchronized (this) {
            installed.put(owner, new HashSet<>(desired.forwards()));
            topologies.put(owner, desired.topology());
        }
    }

    @Override
    public void apply(String owner, FirewallChange change) throws FirewallException {
        pass("apply");
        synchronized (this) {
            Set<PortForward> s = installed.computeIfAbsent(owner, o -> new HashSet<>());
            s.removeAll(change.removeForwards());
            s.addAll(change.addForwards());
        }
    }

    @Override
    public synchronized FirewallState installed(String owner) {
        return new FirewallState(topologies.getOrDefault(owner, new Topology("x", Optional.empty(), List.of())),
                installed.getOrDefault(owner, Set.of()), Set.of());
    }

    @Override
    public void release(String owner) {
        CountDownLatch g = releaseGate;
        if (g != null) {
            try {
                g.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            calls.add("release");
            installed.remove(owner);
        }
    }

    @Override
    public BackendHealth health() {
        return new BackendHealth(name, failing ? Health.FAILED : Health.OK, Instant.EPOCH, Optional.empty(), 0);
    }

    private void pass(String call) throws FirewallException {
        synchronized (this) {
            calls.add(call);
        }
        CountDownLatch e = entered;
        CountDownLatch g = gate;
        if (e != null) {
            e.countDown();
        }
        if (g != null) {
            try {
                g.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        if (failing) {
            throw new FirewallException("fake " + call + " failed");
        }
    }

    synchronized Set<PortForward> forwards() {
        return Set.copyOf(installed.getOrDefault(ListenerRuntime.OWNER, Set.of()));
    }

    synchronized Optional<Topology> topology() {
        return Optional.ofNullable(topologies.get(ListenerRuntime.OWNER));
    }

    synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    synchronized boolean holdsOwner() {
        return installed.containsKey(ListenerRuntime.OWNER);
    }

    void failing(boolean f) {
        failing = f;
    }

    /** The next calls block until the returned latch is released; {@code entered} counts down on entry. */
    CountDownLatch hold(CountDownLatch enteredLatch) {
        entered = enteredLatch;
        CountDownLatch g = new CountDownLatch(1);
        gate = g;
        return g;
    }

    /** Calls of {@link #release(String)} block until the returned latch is counted down. */
    CountDownLatch holdRelease() {
        CountDownLatch g = new CountDownLatch(1);
        releaseGate = g;
        return g;
    }

    void release() {
        CountDownLatch g = gate;
        gate = null;
        entered = null;
        if (g != null) {
            g.countDown();
        }
    }
}
