// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.Locale;

/**
 * Where a rule acts. Only POSTROUTING (SNAT) and PREROUTING (DNAT) exist: the kernel target's OUTPUT placement
 * would rewrite the wrong address (D11) and is not offered.
 */
public enum Hook {
    /** POSTROUTING: bind and translate the source. */
    SNAT,
    /** PREROUTING: translate the destination of bound public addresses. */
    DNAT,
    /** Both of the above from one rule. */
    BOTH;

    /** @return whether the rule acts on outgoing packets */
    public boolean snat() {
        return this != DNAT;
    }

    /** @return whether the rule acts on incoming packets */
    public boolean dnat() {
        return this != SNAT;
    }

    /**
     * @param text {@code snat}, {@code dnat} or {@code both}, any case
     * @return the hook
     * @throws IllegalArgumentException for anything else, including {@code output} (D11)
     */
    public static Hook parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "snat", "postrouting":
                return SNAT;
            case "dnat", "prerouting":
                return DNAT;
            case "both":
                return BOTH;
            case "output":
                throw new IllegalArgumentException("hook output is not supported: the kernel target would rewrite"
                        + " the destination there (SPEC D11); use snat (POSTROUTING)");
            default:
                throw new IllegalArgumentException("hook must be snat, dnat or both, was '" + text + "'");
        }
    }
}
