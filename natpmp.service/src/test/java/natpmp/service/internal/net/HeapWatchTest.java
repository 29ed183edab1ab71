// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HeapWatchTest {
    @Test
    @DisplayName("refuses above 85 % live after a collection, accepts again only below 75 %")
    void hysteresis() {
        assertThat(HeapWatch.next(false, 80, 100)).isFalse();
        assertThat(HeapWatch.next(false, 86, 100)).isTrue();
        assertThat(HeapWatch.next(true, 80, 100)).as("between the marks: stays refusing").isTrue();
        assertThat(HeapWatch.next(true, 74, 100)).isFalse();
        assertThat(HeapWatch.next(false, 85, 100)).isFalse();
    }

    @Test
    @DisplayName("on this JVM it finds the old generation and, with a mostly empty heap, accepts")
    void readsTheRealHeap() {
        assertThat(new HeapWatch().getAsBoolean()).isFalse();
    }
}
