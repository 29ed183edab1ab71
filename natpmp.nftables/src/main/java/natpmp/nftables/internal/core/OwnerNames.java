// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The chains, maps and sets of one SPI owner inside our table. Names start with the object's role, so they
 * are valid nft identifiers even for owners that start with a digit.
 *
 * @param owner the owner name, 1 to 12 characters of {@code [a-z0-9]}
 */
public record OwnerNames(String owner) {
    private static final Pattern OWNER = Pattern.compile("[a-z0-9]{1,12}");

    /** Checks the owner name. */
    public OwnerNames {
        if (owner == null || !OWNER.matcher(owner).matches()) {
            throw new IllegalArgumentException("owner must be 1 to 12 characters of [a-z0-9], was '" + owner + "'");
        }
    }

    /**
     * @param owner the owner name
     * @return its names
     * @throws IllegalArgumentException if the owner name is invalid
     */
    public static OwnerNames of(String owner) {
        return new OwnerNames(owner);
    }

    /** @return the nat chain jumped to from {@code prerouting} */
    public String pre() {
        return "pre_" + owner;
    }

    /** @return the nat chain jumped to from {@code postrouting} */
    public String post() {
        return "post_" + owner;
    }

    /** @return the filter chain jumped to from {@code forward} */
    public String fwd() {
        return "fwd_" + owner;
    }

    /** @return the filter chain jumped to from {@code firstpacket} (postrouting, priority mangle): queue rules */
    public String queue() {
        return "queue_" + owner;
    }

    /** @return the chains in the order they are declared */
    public List<String> chains() {
        return List.of(pre(), post(), fwd(), queue());
    }

    /** @return map {@code protocol . external port : internal address . internal port} (inbound and hairpin DNAT) */
    public String dnat() {
        return "dnat_" + owner;
    }

    /** @return map {@code internal address . protocol . internal port : external port} (N27 source port) */
    public String sport() {
        return "sport_" + owner;
    }

    /** @return set {@code internal address . protocol . internal port} (forward accept, hairpin masquerade) */
    public String targets() {
        return "targets_" + owner;
    }

    /** @return map {@code external address : internal address} of the host bindings (inbound DNAT) */
    public String bindIn() {
        return "bindin_" + owner;
    }

    /** @return map {@code internal address : external address} of the host bindings (outbound SNAT) */
    public String bindOut() {
        return "bindout_" + owner;
    }

    /** @return set of the bound internal addresses (forward accept; sources the queue rules skip) */
    public String bindHosts() {
        return "bindhosts_" + owner;
    }
}
