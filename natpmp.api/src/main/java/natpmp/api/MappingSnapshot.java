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
 */
public record MappingSnapshot(Instant taken, boolean enabled, long epochSeconds, Optional<Inet4Address> externalAddress,
        List<Mapping> mappings, Optional<String> backend, Optional<BackendHealth> health) {
    /** Checks and copies every component. */
    public MappingSnapshot {
        Ports.nonNull("taken", taken);
        Ports.nonNull("externalAddress", externalAddress);
        Ports.nonNull("backend", backend);
        Ports.nonNull("health", health);
        mappings = List.copyOf(mappings);
    }
}
