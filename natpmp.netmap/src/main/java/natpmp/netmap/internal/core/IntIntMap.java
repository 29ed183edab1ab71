// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.Arrays;

/**
 * An open-addressing hash map from {@code int} to non-negative {@code int}, without boxing or allocation per
 * operation: the global prenat index of the mapper (D5, D12). Linear probing with backward-shift deletion.
 */
final class IntIntMap {
    /** Returned by {@link #get} for a missing key. */
    static final int MISSING = -1;

    private int[] keys;
    private int[] values;
    private int size;
    private int mask;

    IntIntMap() {
        allocate(256);
    }

    private void allocate(int capacity) {
        keys = new int[capacity];
        values = new int[capacity];
        Arrays.fill(values, MISSING);
        mask = capacity - 1;
    }

    private static int slot(int key, int mask) {
        int h = key * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    int size() {
        return size;
    }

    int get(int key) {
        int i = slot(key, mask);
        while (values[i] != MISSING) {
            if (keys[i] == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return MISSING;
    }

    void put(int key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("values must be non-negative");
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = slot(key, mask);
        while (values[i] != MISSING) {
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }

    boolean remove(int key) {
        int i = slot(key, mask);
        while (values[i] != MISSING) {
            if (keys[i] == key) {
                shiftBack(i);
                size--;
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    private void shiftBack(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & mask;
            if (values[i] == MISSING) {
                break;
            }
            int home = slot(keys[i], mask);
            // move the entry into the hole unless its home lies cyclically in (hole, i]
            boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!stays) {
                keys[hole] = keys[i];
                values[hole] = values[i];
                hole = i;
            }
        }
        values[hole] = MISSING;
    }

    private void grow() {
        int[] oldKeys = keys;
        int[] oldValues = values;
        allocate(keys.length * 2);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != MISSING) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }
}
