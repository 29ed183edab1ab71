// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.util.Arrays;

/**
 * A growable array of latency samples in nanoseconds. Each client thread owns one; they are merged only after
 * the threads have finished, so no synchronisation is needed.
 */
final class Samples {
    private long[] values = new long[4096];
    private int size;

    /** Appends one sample. */
    void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    /** @return the number of samples */
    int size() {
        return size;
    }

    /** @return a copy of the samples, in the order they were added */
    long[] toArray() {
        return Arrays.copyOf(values, size);
    }

    /** @return all samples of all parts in one array */
    static long[] merge(Iterable<Samples> parts) {
        int total = 0;
        for (Samples s : parts) {
            total += s.size;
        }
        long[] all = new long[total];
        int at = 0;
        for (Samples s : parts) {
            System.arraycopy(s.values, 0, all, at, s.size);
            at += s.size;
        }
        return all;
    }
}
