// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {

    @Test
    @DisplayName("nearest rank: of 1..100, p50 is 50, p99 is 99, max is 100")
    void percentilesOfOneToHundred() {
        long[] samples = new long[100];
        for (int i = 0; i < 100; i++) {
            samples[i] = 100 - i; // reverse order: the summary must sort
        }
        LatencyStats stats = LatencyStats.of(samples, 1000);
        assertThat(stats).isEqualTo(new LatencyStats(100, 50, 99, 100, 0));
    }

    @Test
    @DisplayName("one slow answer in 1000 shows in max, not in p99")
    void singleOutlierOnlyInMax() {
        long[] samples = new long[1000];
        java.util.Arrays.fill(samples, 7);
        samples[500] = 300;
        LatencyStats stats = LatencyStats.of(samples, 250);
        assertThat(stats.p50Nanos()).isEqualTo(7);
        assertThat(stats.p99Nanos()).isEqualTo(7);
        assertThat(stats.maxNanos()).isEqualTo(300);
        assertThat(stats.late()).isEqualTo(1);
    }

    @Test
    @DisplayName("late counts answers strictly above the threshold")
    void lateIsStrictlyAbove() {
        LatencyStats stats = LatencyStats.of(new long[] {249, 250, 251, 900}, 250);
        assertThat(stats.late()).isEqualTo(2);
        assertThat(stats.count()).isEqualTo(4);
    }

    @Test
    @DisplayName("a single sample is every percentile; no samples give zeros")
    void singleAndEmpty() {
        assertThat(LatencyStats.of(new long[] {42}, 10)).isEqualTo(new LatencyStats(1, 42, 42, 42, 1));
        assertThat(LatencyStats.of(new long[0], 10)).isEqualTo(new LatencyStats(0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("the caller's array is left as it was")
    void inputNotSorted() {
        long[] samples = {3, 1, 2};
        LatencyStats.of(samples, 10);
        assertThat(samples).containsExactly(3, 1, 2);
    }

    @Test
    void percentileOutOfRangeRejected() {
        assertThatThrownBy(() -> LatencyStats.percentile(new long[] {1}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LatencyStats.percentile(new long[] {1}, 101))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("samples of several clients are merged completely, across growth of the buffer")
    void mergeKeepsEverySample() {
        Samples a = new Samples();
        Samples b = new Samples();
        for (int i = 0; i < 10_000; i++) {
            a.add(i);
        }
        b.add(-1);
        long[] all = Samples.merge(List.of(a, b));
        assertThat(all).hasSize(10_001);
        assertThat(all[9_999]).isEqualTo(9_999);
        assertThat(all[10_000]).isEqualTo(-1);
    }
}
