// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.util.Arrays;

/**
 * Latency summary of one benchmark cell. Percentiles use the nearest-rank method on the exact, sorted samples
 * (no bucketing), so p99 of 100 samples is the 99th smallest.
 *
 * @param count     answered requests measured
 * @param p50Nanos  median latency, 0 without samples
 * @param p99Nanos  99th percentile latency, 0 without samples
 * @param maxNanos  largest latency, 0 without samples
 * @param late      answers that took longer than the late threshold
 */
public record LatencyStats(int count, long p50Nanos, long p99Nanos, long maxNanos, int late) {

    /**
     * Summarises samples.
     *
     * @param samples    latencies in nanoseconds, in any order; not modified
     * @param lateNanos  answers strictly slower than this count as late
     * @return the summary
     */
    public static LatencyStats of(long[] samples, long lateNanos) {
        if (samples.length == 0) {
            return new LatencyStats(0, 0, 0, 0, 0);
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        int late = 0;
        for (int i = sorted.length - 1; i >= 0 && sorted[i] > lateNanos; i--) {
            late++;
        }
        return new LatencyStats(sorted.length, percentile(sorted, 50), percentile(sorted, 99),
                sorted[sorted.length - 1], late);
    }

    /**
     * Nearest-rank percentile: the smallest sample such that at least {@code p} percent of all samples are at or
     * below it.
     *
     * @param sorted ascending, not empty
     * @param p      1..100
     * @return the sample at that rank
     */
    static long percentile(long[] sorted, int p) {
        if (p < 1 || p > 100) {
            throw new IllegalArgumentException("percentile out of range: " + p);
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }
}
