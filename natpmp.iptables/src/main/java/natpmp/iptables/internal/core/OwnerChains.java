// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The four chains one backend owner owns: nat {@code NATPMP-<OWNER>-PRE} (jumped to from PREROUTING), nat
 * {@code NATPMP-<OWNER>-POST} (from POSTROUTING), filter {@code NATPMP-<OWNER>-FWD} (from FORWARD) and mangle
 * {@code NATPMP-<OWNER>-QUE} (from mangle POSTROUTING; holds the queue rules, empty for owners without any).
 *
 * @param owner the owner name, 1 to 12 characters of {@code [a-z0-9]}
 * @param pre   the nat chain for DNAT
 * @param post  the nat chain for SNAT and masquerade
 * @param fwd   the filter chain accepting forwarded DNAT flows
 * @param que   the mangle chain sending first packets of unbound sources to NFQUEUE
 */
public record OwnerChains(String owner, String pre, String post, String fwd, String que) {
    /** Every chain name starts with this, so an operator can tell our chains from everybody else's. */
    public static final String PREFIX = "NATPMP-";

    /**
     * Forwards live in shard chains below the pre, post and forward chains ({@code NATPMP-<OWNER>-PRE-<k>},
     * k = external port mod {@value}), so that a removal rewrites one small chain instead of deleting rules by
     * their text: iptables-nft reads every rule of the table for a {@code -D} (0.2 s at 10,000 forwards), and
     * not for a chain it flushes and fills.
     */
    public static final int SHARDS = 64;

    /** The FirewallBackend SPI's owner grammar; it keeps chain names within iptables' 28 characters. */
    private static final Pattern OWNER = Pattern.compile("[a-z0-9]{1,12}");

    /** Checks every component. */
    public OwnerChains {
        requireOwner(owner);
    }

    /**
     * @param owner the owner name
     * @return the chains of {@code owner}
     * @throws IllegalArgumentException if the owner name is not 1 to 12 characters of {@code [a-z0-9]}
     */
    public static OwnerChains of(String owner) {
        requireOwner(owner);
        String base = PREFIX + owner.toUpperCase(Locale.ROOT);
        return new OwnerChains(owner, base + "-PRE", base + "-POST", base + "-FWD", base + "-QUE");
    }

    /**
     * @param forward a forward
     * @return the shard its rules live in
     */
    public static int shardOf(natpmp.api.PortForward forward) {
        return forward.externalPort() % SHARDS;
    }

    /**
     * @param chain one of this owner's pre, post or fwd chains
     * @param shard 0 to {@link #SHARDS} - 1
     * @return the shard chain below it
     */
    public static String shard(String chain, int shard) {
        return chain + "-" + shard;
    }

    /**
     * @param forwards forwards
     * @return the set of their shards, one bit each
     */
    public static java.util.BitSet shardMask(Iterable<natpmp.api.PortForward> forwards) {
        java.util.BitSet mask = new java.util.BitSet(SHARDS);
        for (natpmp.api.PortForward f : forwards) {
            mask.set(shardOf(f));
        }
        return mask;
    }

    private static void requireOwner(String owner) {
        if (owner == null || !OWNER.matcher(owner).matches()) {
            throw new IllegalArgumentException("owner must be 1 to 12 characters of [a-z0-9], was " + owner);
        }
    }
}
