// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

/**
 * Statistics of one subnet-mapper pool, the values of the DNETMAP {@code _stat} file (SPEC D16).
 *
 * @param pool        the pool in CIDR notation
 * @param used        dynamic bindings that have not expired
 * @param statics     static bindings
 * @param all         addresses in the pool
 * @param meanTtl     mean remaining ttl of the used bindings in whole seconds, 0 when none is used
 */
public record NetmapPoolStats(String pool, int used, int statics, int all, long meanTtl) {
    /** Checks every component. */
    public NetmapPoolStats {
        Ports.nonNull("pool", pool);
    }
}
