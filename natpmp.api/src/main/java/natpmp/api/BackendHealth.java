// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.time.Instant;
import java.util.Optional;

/**
 * Health of a firewall backend as operators see it.
 *
 * @param backend    the backend's {@link FirewallBackend#BACKEND_PROPERTY} value
 * @param state      the coarse state
 * @param since      when the state was entered
 * @param lastError  the last error (with the command's stderr), if one happened
 * @param repairs    how many times state removed from outside was restored
 */
public record BackendHealth(String backend, Health state, Instant since, Optional<String> lastError, long repairs) {
    /** Checks every component. */
    public BackendHealth {
        Ports.nonNull("backend", backend);
        Ports.nonNull("state", state);
        Ports.nonNull("since", since);
        Ports.nonNull("lastError", lastError);
    }
}
