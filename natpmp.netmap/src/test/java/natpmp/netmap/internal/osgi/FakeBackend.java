// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory backend: keeps the bindings per call, records each call in a queue the test can wait on. */
final class FakeBackend implements FirewallBackend {
    /** One recorded call. */
    record Call(String verb, String owner, Set<HostBinding> bindings, Set<HostBinding> add, Set<HostBinding> remove,
            Optional<Topology> topology, Set<QueueRule> queueRules) {
        Call(String verb, String owner, Set<HostBinding> bindings, Set<HostBinding> add, Set<HostBinding> remove,
                Optional<Topology> topology) {
            this(verb, owner, bindings, add, remove, topology, Set.of());
        }
    }

    final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    final AtomicInteger failures = new AtomicInteger();
    /** Refuses every state with queue rules, as a kernel without the queue expression does. */
    volatile boolean refuseQueueRules;
    /** Every release, in order with other events a test records here too. */
    final java.util.List<String> events = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    private Set<QueueRule> queueRules = Set.of();
    private final Set<HostBinding> installed = new HashSet<>();

    Call next() throws InterruptedException {
        Call c = calls.poll(10, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no backend call within 10 s");
        }
        return c;
    }

    synchronized Set<HostBinding> installed() {
        return Set.copyOf(installed);
    }

    synchronized Set<QueueRule> installedQueueRules() {
        return queueRules;
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public synchronized void reconcile(String owner, FirewallState desired) throws FirewallException {
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            calls.add(new Call("reconcile-failed", owner, desired.bindings(), Set.of(), Set.of(),
                    Optional.of(desired.topology())));
            throw new FirewallException("injected failure");
        }
        if (refuseQueueRules && !desired.queueRules().isEmpty()) {
            calls.add(new Call("reconcile-refused", owner, desired.bindings(), Set.of(), Set.of(),
                    Optional.of(desired.topology()), desired.queueRules()));
            throw new FirewallException("the kernel refused the queue rule: it has no queue expression");
        }
        installed.clear();
        installed.addAll(desired.bindings());
        queueRules = desired.queueRules();
        calls.add(new Call("reconcile", owner, desired.bindings(), Set.of(), Set.of(),
                Optional.of(desired.topology()), desired.queueRules()));
    }

    @Override
    public synchronized void apply(String owner, FirewallChange change) throws FirewallException {
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            calls.add(new Call("apply-failed", owner, Set.copyOf(installed), change.addBindings(),
                    change.removeBindings(), Optional.empty()));
            throw new FirewallException("injected failure");
        }
        installed.removeAll(change.removeBindings());
        installed.addAll(change.addBindings());
        calls.add(new Call("apply", owner, Set.copyOf(installed), change.addBindings(), change.removeBindings(),
                Optional.empty()));
    }

    @Override
    public FirewallState installed(String owner) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized void release(String owner) {
        installed.clear();
        queueRules = Set.of();
        events.add("release");
        calls.add(new Call("release", owner, Set.of(), Set.of(), Set.of(), Optional.empty()));
    }

    @Override
    public BackendHealth health() {
        throw new UnsupportedOperationException();
    }
}
