// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.util.Set;

/**
 * The whole desired state of one backend owner: a projection of the mapping table (and of the subnet
 * mapper's bindings). Backends make the kernel equal to it.
 *
 * @param topology   where the networks are
 * @param forwards   port forwards
 * @param bindings   1:1 host bindings
 * @param queueRules first-packet rules of the subnet mapper (since 1.1); they hold new connections of
 *                   sources without a binding in this state
 */
public record FirewallState(Topology topology, Set<PortForward> forwards, Set<HostBinding> bindings,
        Set<QueueRule> queueRules) {
    /** Checks and copies every component. */
    public FirewallState {
        Ports.nonNull("topology", topology);
        forwards = Set.copyOf(forwards);
        bindings = Set.copyOf(bindings);
        queueRules = Set.copyOf(queueRules);
    }

    /**
     * A state without queue rules (the form of API 1.0).
     *
     * @param topology where the networks are
     * @param forwards port forwards
     * @param bindings 1:1 host bindings
     */
    public FirewallState(Topology topology, Set<PortForward> forwards, Set<HostBinding> bindings) {
        this(topology, forwards, bindings, Set.of());
    }

    /**
     * @param topology where the networks are
     * @return a state with no forwards, no bindings and no queue rules
     */
    public static FirewallState empty(Topology topology) {
        return new FirewallState(topology, Set.of(), Set.of(), Set.of());
    }
}
