// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.util.Set;

/**
 * The whole desired state of one backend owner: a projection of the mapping table (and of the subnet
 * mapper's bindings). Backends make the kernel equal to it.
 *
 * @param topology  where the networks are
 * @param forwards  port forwards
 * @param bindings  1:1 host bindings
 */
public record FirewallState(Topology topology, Set<PortForward> forwards, Set<HostBinding> bindings) {
    /** Checks and copies every component. */
    public FirewallState {
        Ports.nonNull("topology", topology);
        forwards = Set.copyOf(forwards);
        bindings = Set.copyOf(bindings);
    }

    /**
     * @param topology where the networks are
     * @return a state with no forwards and no bindings
     */
    public static FirewallState empty(Topology topology) {
        return new FirewallState(topology, Set.of(), Set.of());
    }
}
