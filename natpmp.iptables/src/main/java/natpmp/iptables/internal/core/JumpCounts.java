// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

/**
 * How many jumps to an owner's chains exist in the built-in chains.
 *
 * @param pre  jumps from nat PREROUTING to the pre chain
 * @param post jumps from nat POSTROUTING to the post chain
 * @param fwd  jumps from filter FORWARD to the forward chain
 * @param que  jumps from mangle POSTROUTING to the queue chain
 */
public record JumpCounts(int pre, int post, int fwd, int que) {
    /** No jumps at all. */
    public static final JumpCounts NONE = new JumpCounts(0, 0, 0, 0);
    /** Every chain jumped to once: the normal state. */
    public static final JumpCounts ONCE = new JumpCounts(1, 1, 1, 1);

    /** @return whether each chain is jumped to exactly once */
    public boolean exactlyOnce() {
        return equals(ONCE);
    }
}
