// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

/**
 * One pool of public addresses (a DNETMAP prefix) with its entries in parallel arrays, indexed by the offset of
 * the entry's address from the first address, and its LRU list as index links (no allocation per decision).
 *
 * <p>An entry is free while its prenat is 0 (as in the kernel). The LRU list holds every entry, least recently
 * refreshed first (D4, D7); entries are appended in ascending address order when the pool is created (D3).
 */
final class Pool {
    final int id;
    final Cidr prefix;
    final boolean wholePrefix;
    /** Address of entry 0. */
    final int first;
    final int size;
    final long createdMillis;
    final int[] prenat;
    final long[] stamp;
    final long[] lastHit;
    final boolean[] statik;
    private final int[] prev;
    private final int[] next;
    /** Index of the LRU sentinel in {@link #prev}/{@link #next}. */
    private final int head;
    int boundCount;
    int staticCount;
    /** No dynamic bound entry has a stamp below this (a lower bound, so the full check is O(1)). */
    long earliestStamp;
    /** "no free adresses" was reported and no allocation succeeded since (v2 rate limit, D17). */
    boolean fullReported;

    Pool(int id, Cidr prefix, boolean wholePrefix, long now) {
        this.id = id;
        this.prefix = prefix;
        this.wholePrefix = wholePrefix;
        long all = prefix.size();
        // D3: whole_prefix=0 drops the network and the broadcast address
        this.first = wholePrefix ? prefix.network() : prefix.network() + 1;
        this.size = (int) (wholePrefix ? all : all - 2);
        if (size <= 0) {
            throw new IllegalArgumentException("pool " + prefix + " has no usable address (SPEC D3)");
        }
        this.createdMillis = now;
        prenat = new int[size];
        stamp = new long[size];
        lastHit = new long[size];
        statik = new boolean[size];
        prev = new int[size + 1];
        next = new int[size + 1];
        head = size;
        prev[head] = head;
        next[head] = head;
        for (int i = 0; i < size; i++) {
            // never-bound entries carry the creation time as stamp (D14: their ttl counts down from 0)
            stamp[i] = now;
            lastHit[i] = now;
            linkBefore(i, head);
        }
        earliestStamp = Long.MIN_VALUE;
    }

    /**
     * @param address an address
     * @return its entry index, or -1 if it is not in this pool
     */
    int indexOf(int address) {
        if (!prefix.contains(address)) {
            return -1;
        }
        int offset = address - first;
        return offset >= 0 && offset < size ? offset : -1;
    }

    int postnat(int index) {
        return first + index;
    }

    private void linkBefore(int i, int at) {
        int p = prev[at];
        next[p] = i;
        prev[i] = p;
        next[i] = at;
        prev[at] = i;
    }

    /** Moves an entry to the LRU tail (most recently refreshed). */
    void touch(int i) {
        next[prev[i]] = next[i];
        prev[next[i]] = prev[i];
        linkBefore(i, head);
    }

    /** @return the entry indexes in LRU order, least recently refreshed first (v1 table order, D14) */
    int[] lruOrder() {
        int[] out = new int[size];
        int k = 0;
        for (int i = next[head]; i != head; i = next[i]) {
            out[k++] = i;
        }
        return out;
    }

    void lowerEarliest(long newStamp) {
        if (newStamp < earliestStamp) {
            earliestStamp = newStamp;
        }
    }

    /**
     * Finds the entry to (re)use: the first entry along the LRU list that is free or expired. The kernel looks
     * at the head only; with mixed ttls that reports a pool full while it holds expired entries (D7). This is
     * a deliberate divergence: whenever the kernel finds an entry (the head), this finds the same one.
     *
     * @param now monotonic millis
     * @return the entry index, or -1 if every entry is bound and active
     */
    int reclaimable(long now) {
        // expired = stamp < now (kernel time_before(stamp, jiffies)); all bound and none below now -> full
        if (boundCount == size && now <= earliestStamp) {
            return -1;
        }
        long min = Long.MAX_VALUE;
        for (int i = next[head]; i != head; i = next[i]) {
            if (prenat[i] == 0) {
                return i;
            }
            if (!statik[i]) {
                if (stamp[i] < now) {
                    return i;
                }
                min = Math.min(min, stamp[i]);
            }
        }
        earliestStamp = min;
        return -1;
    }
}
