// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * One binding of the subnet mapper (DNETMAP semantics, SPEC D14): a private (prenat) host bound 1:1 to a
 * public (postnat) address of a pool.
 *
 * @param prenat        the private address
 * @param postnat       the public address
 * @param ttlSeconds    seconds until the binding expires, truncated toward zero; negative once expired (D14);
 *                      meaningless for static bindings
 * @param lasthit       the {@code lasthit} value as printed in the binding table (D15)
 * @param pool          the pool in CIDR notation, e.g. {@code 20.0.0.0/26}
 * @param staticBinding whether the binding was added by an administrator and never expires (D19)
 */
public record NetmapBinding(Inet4Address prenat, Inet4Address postnat, long ttlSeconds, long lasthit, String pool,
        boolean staticBinding) {
    /** Checks every component. */
    public NetmapBinding {
        Ports.nonNull("prenat", prenat);
        Ports.nonNull("postnat", postnat);
        Ports.nonNull("pool", pool);
    }

    /** @return whether the binding is dynamic and its ttl ran out (it stays until its address is reused, D8) */
    public boolean expired() {
        return !staticBinding && ttlSeconds < 0;
    }
}
