// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.Optional;

import natpmp.api.BackendHealth;

/**
 * One installed firewall backend service as the backends page shows it.
 *
 * @param name      its {@code natpmp.backend} property ("?" when missing)
 * @param ranking   its {@code service.ranking}
 * @param serviceId its {@code service.id}
 * @param bundle    the symbolic name of the bundle that registered it
 * @param health    what {@code health()} returned, empty when it failed
 * @param problem   why health could not be read, empty when it could
 */
public record BackendRow(String name, int ranking, long serviceId, String bundle, Optional<BackendHealth> health,
        Optional<String> problem) {
    /** Checks the components. */
    public BackendRow {
        name = name == null ? "?" : name;
        bundle = bundle == null ? "?" : bundle;
        health = health == null ? Optional.empty() : health;
        problem = problem == null ? Optional.empty() : problem;
    }
}
