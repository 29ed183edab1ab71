// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

/**
 * How many rules each chain of an owner holds: what the watchdog compares with the kernel.
 *
 * @param pre  rules in the nat pre chain
 * @param post rules in the nat post chain
 * @param fwd  rules in the filter forward chain
 * @param que  rules in the mangle queue chain
 */
public record RuleCounts(long pre, long post, long fwd, long que) {
}
