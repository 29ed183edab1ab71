// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An immutable view of the NAT-PMP service at one moment.
 *
 * @param taken            when the snapshot was taken (wall clock, for display)
 * @param enabled          whether the service answers requests (RFC 6886 §3.8: off when not doing NAT)
 * @param epochSeconds     the current Seconds Since Start of Epoch
 * @param externalAddress  the external address, empty while there is none
 * @param mappings         live mappings, ordered by client, protocol and internal port
 * @param backend          the backend in use, empty while none is bound
 * @param health           the health of the backend in use, empty while none is bound
 * @param lastSwap         when the backend in use last changed (bound, replaced by another, or unbound)
 * @param backends         the health of every installed backend, in use or not, ordered by name
 */
public record MappingSnapshot(Instant taken, boolean enabled, long epochSeconds, Optional<Inet4Address> externalAddress,
        List<Mapping> mappings, Optional<String> backend, Optional<BackendHealth> health, Optional<Instant> lastSwap,
        List<BackendHealth> backends) {
    /** Checks and copies every component. */
    public MappingSnapshot {
        Ports.nonNull("taken", taken);
        Ports.nonNull("externalAddress", externalAddress);
        Ports.nonNull("backend", backend);
        Ports.nonNull("health", health);
        Ports.nonNull("lastSwap", lastSwap);
        mappings = List.copyOf(mappings);
        backends = List.copyOf(backends);
    }

    /**
     * A snapshot without backend history: no swap recorded, no other backends known.
     *
     * @param taken           when the snapshot was taken
     * @param enabled         whether the service answers requests
     * @param epochSeconds    the current Seconds Since Start of Epoch
     * @param externalAddress the external address, empty while there is none
     * @param mappings        live mappings
     * @param backend         the backend in use
     * @param health          the health of the backend in use
     */
    public MappingSnapshot(Instant taken, boolean enabled, long epochSeconds, Optional<Inet4Address> externalAddress,
            List<Mapping> mappings, Optional<String> backend, Optional<BackendHealth> health) {
        this(taken, enabled, epochSeconds, externalAddress, mappings, backend, health, Optional.empty(),
                health.map(List::of).orElse(List.of()));
    }

    /**
     * @param lastSwap the time of the last change of backend
     * @param backends the health of every installed backend
     * @return this snapshot with backend history
     */
    public MappingSnapshot withBackends(Optional<Instant> lastSwap, List<BackendHealth> backends) {
        return new MappingSnapshot(taken, enabled, epochSeconds, externalAddress, mappings, backend, health, lastSwap,
                backends);
    }
}
