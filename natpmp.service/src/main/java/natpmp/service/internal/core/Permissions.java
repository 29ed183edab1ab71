// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.net.Inet4Address;
import java.util.List;

/**
 * An ordered list of permission rules: the first rule that matches decides; when none matches, the request is
 * allowed (miniupnpd semantics, N34).
 *
 * @param rules the rules in order
 */
public record Permissions(List<PermissionRule> rules) {
    /** Allows everything. */
    public static final Permissions ALLOW_ALL = new Permissions(List.of());

    /** Copies the list. */
    public Permissions {
        rules = List.copyOf(rules);
    }

    /**
     * @param client       the client
     * @param externalPort candidate external port
     * @param internalPort requested internal port
     * @return whether the mapping is allowed
     */
    public boolean allows(Inet4Address client, int externalPort, int internalPort) {
        for (PermissionRule r : rules) {
            if (r.matches(client, externalPort, internalPort)) {
                return r.allow();
            }
        }
        return true;
    }
}
