// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

/**
 * How long a mapping is granted (RFC 6886 §3.3, N17): the gateway may shorten a lifetime and SHOULD NOT grant
 * more than requested. Granted = min(requested, max), then raised towards {@code min} but never above the
 * requested value. Because of that last rule {@code min} only matters for requests of at least {@code min}
 * seconds, where it has no effect either: it is kept as a documented lower bound of the window and for a
 * future PCP path, which may lengthen lifetimes (RFC 6887).
 *
 * @param min shortest lifetime, seconds, 1..max
 * @param max longest lifetime, seconds, min..2^32-1
 */
public record LifetimePolicy(long min, long max) {
    /** Checks the window. */
    public LifetimePolicy {
        if (min < 1 || max > NatPmpCodec.U32_MAX || min > max) {
            throw new IllegalArgumentException("lifetime window " + min + ".." + max
                    + " must satisfy 1 <= min <= max <= " + NatPmpCodec.U32_MAX);
        }
    }

    /**
     * @param requested requested lifetime in seconds, 1..2^32-1
     * @return the lifetime to grant, 1..requested
     */
    public long grant(long requested) {
        NatPmpCodec.checkU32("requested", requested);
        long granted = Math.min(requested, max);
        if (granted < min) {
            granted = Math.min(min, requested);
        }
        return granted;
    }
}
