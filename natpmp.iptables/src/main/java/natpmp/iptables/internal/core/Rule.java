// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

/**
 * One rule in one of our chains, with its match and target exactly as {@code iptables-save} prints them, so a
 * rendered rule and a read-back rule compare as plain strings.
 *
 * @param table the table, {@code nat}, {@code filter} or {@code mangle}
 * @param chain the chain
 * @param spec  everything after {@code -A <chain> }
 */
public record Rule(String table, String chain, String spec) {
    /** The nat table. */
    public static final String NAT = "nat";
    /** The filter table. */
    public static final String FILTER = "filter";
    /** The mangle table. */
    public static final String MANGLE = "mangle";

    /** Checks every component. */
    public Rule {
        if (table == null || chain == null || spec == null) {
            throw new NullPointerException("table, chain and spec must not be null");
        }
    }
}
