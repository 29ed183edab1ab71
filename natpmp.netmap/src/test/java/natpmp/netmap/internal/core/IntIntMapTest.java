// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

class IntIntMapTest {
    @Test
    void d12_indexAgreesWithAHashMapUnderRandomChurn() {
        IntIntMap map = new IntIntMap();
        Map<Integer, Integer> reference = new HashMap<>();
        SplittableRandom random = new SplittableRandom(6886);
        for (int step = 0; step < 200_000; step++) {
            // a small key space forces collisions, probing chains and backward shifts
            int key = (random.nextInt(4096) << 8) | random.nextInt(2);
            switch (random.nextInt(3)) {
                case 0 -> {
                    int v = random.nextInt(Integer.MAX_VALUE);
                    map.put(key, v);
                    reference.put(key, v);
                }
                case 1 -> assertThat(map.remove(key)).isEqualTo(reference.remove(key) != null);
                default -> assertThat(map.get(key)).isEqualTo(reference.getOrDefault(key, IntIntMap.MISSING));
            }
        }
        assertThat(map.size()).isEqualTo(reference.size());
        reference.forEach((k, v) -> assertThat(map.get(k)).isEqualTo(v));
    }
}
