// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.util.Collection;

/**
 * An order-independent summary of a set of element texts: how many there are and the sum of a 64-bit hash of
 * each. Two fingerprints of the same elements are equal whatever the order; a missing, extra or changed element
 * changes the count or, but for a 2^-64 chance, the sum. Lets the watchdog compare tens of thousands of
 * elements without holding them: each is hashed as it is read and dropped.
 *
 * @param count how many elements
 * @param sum   the sum (mod 2^64) of their hashes
 */
public record Fingerprint(long count, long sum) {
    /** The fingerprint of no elements. */
    public static final Fingerprint EMPTY = new Fingerprint(0, 0);

    /**
     * @param elements element texts, each counted as often as it occurs
     * @return their fingerprint
     */
    public static Fingerprint of(Collection<String> elements) {
        long sum = 0;
        for (String e : elements) {
            sum += hash(e);
        }
        return new Fingerprint(elements.size(), sum);
    }

    /**
     * @param element one more element text
     * @return this fingerprint with the element added
     */
    public Fingerprint plus(String element) {
        return new Fingerprint(count + 1, sum + hash(element));
    }

    /** FNV-1a over the characters, then the SplitMix64 finalizer so that sums of similar texts spread. */
    static long hash(CharSequence text) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            h ^= text.charAt(i);
            h *= 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }
}
