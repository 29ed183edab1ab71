// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.ip;
import static natpmp.netmap.internal.core.Rules.snat;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Prints decisions per second; asserts only the outcome of the decisions, never time (the goal, more than
 * 1,000,000 decisions per second for a /16 onto a /24 with churn, is read off the printed figure). Also runnable
 * as a plain main for longer runs: {@code java -cp ... natpmp.netmap.internal.core.EngineThroughputTest [N]}.
 */
class EngineThroughputTest {
    @Test
    void printsDecisionsPerSecond() {
        run(3_000_000);
    }

    public static void main(String[] args) {
        run(args.length > 0 ? Integer.parseInt(args[0]) : 50_000_000);
    }

    private static void run(int decisions) {
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, NetmapEvents.NONE);
        e.configure(List.of(snat("r", 1, "10.0.0.0/16", "20.0.0.0/16"),
                Rules.dnat("in", 2, Optional.empty(), OptionalInt.empty())), 0);
        int base = ip("10.0.0.0");
        for (int h = 0; h < 65536; h++) {
            e.snat(base + h, 0);
        }
        long checksum = 0;
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            for (int k = 0; k < decisions; k++) {
                int host = base + ((k * 40503) & 0xffff);
                checksum += e.snat(host, 1000 + k / 1000);
            }
            long snatNs = System.nanoTime() - start;
            start = System.nanoTime();
            int pool = ip("20.0.0.0");
            for (int k = 0; k < decisions; k++) {
                checksum += e.dnat(pool + ((k * 40503) & 0xffff), 1000 + k / 1000);
            }
            long dnatNs = System.nanoTime() - start;
            System.out.printf("netmap engine: %,d bound-host SNAT decisions/s, %,d DNAT decisions/s (65536 bindings)%n",
                    (long) (decisions / (snatNs / 1e9)), (long) (decisions / (dnatNs / 1e9)));
        }
        assertThat(checksum).isNotZero();
        assertThat(e.bindingCount()).isEqualTo(65536);
        churn(decisions / 3);
        subnetOntoSmallerPool(decisions);
    }

    /**
     * The DNETMAP use case under churn: the hosts of a /16 share the 256 addresses of a /24 with a 2 s ttl. The
     * active hosts are a window of 200 consecutive addresses that moves on by one host every 400 decisions while
     * 1 ms passes every 10 decisions, so about 250 hosts are active within one ttl: most decisions refresh a
     * bound host, and every new host reclaims the address of one that left more than a ttl ago (D4, D7).
     */
    private static void subnetOntoSmallerPool(int decisions) {
        long[] counts = new long[3]; // bound, timed out, no free address
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, new NetmapEvents() {
            @Override
            public void bound(int prenat, int postnat) {
                counts[0]++;
            }

            @Override
            public void timedOut(int prenat, int postnat) {
                counts[1]++;
            }

            @Override
            public void noFreeAddress(int prenat, Cidr prefix) {
                counts[2]++;
            }
        });
        e.configure(List.of(snat("r", 1, "10.0.0.0/16", "20.0.0.0/24", 2, false)), 0);
        int base = ip("10.0.0.0");
        long seed = 42;
        for (int round = 0; round < 3; round++) {
            long translated = 0;
            long start = System.nanoTime();
            for (int k = 0; k < decisions; k++) {
                long step = (long) round * decisions + k;
                seed = seed * 6364136223846793005L + 1442695040888963407L; // LCG: no allocation, no locking
                int host = base + (int) ((step / 400 + (seed >>> 33) % 200) & 0xffff);
                long now = step / 10;
                if (e.snat(host, now) != NetmapAllocator.NO_TRANSLATION) {
                    translated++;
                }
            }
            long ns = System.nanoTime() - start;
            System.out.printf("netmap engine: %,d decisions/s, /16 onto /24 with churn (%.1f%% translated,"
                    + " %,d bindings made so far)%n", (long) (decisions / (ns / 1e9)), 100.0 * translated / decisions,
                    counts[0]);
            assertThat(translated).isPositive().isLessThanOrEqualTo(decisions);
        }
        assertThat(e.bindingCount()).isEqualTo(256);
        assertThat(counts[1]).as("every binding beyond the first 256 reclaimed an expired one")
                .isEqualTo(counts[0] - 256);
        assertThat(counts[0]).as("hosts came and went").isGreaterThan(1000);
    }

    /** Every decision is for a host without a binding and reclaims an expired entry (timeout + add). */
    private static void churn(int decisions) {
        int[] events = new int[2];
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, new NetmapEvents() {
            @Override
            public void bound(int prenat, int postnat) {
                events[0]++;
            }

            @Override
            public void timedOut(int prenat, int postnat) {
                events[1]++;
            }
        });
        e.configure(List.of(snat("r", 1, "10.0.0.0/8", "20.0.0.0/20", 0, false)), 0);
        int base = ip("10.0.0.0");
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            for (int k = 0; k < decisions; k++) {
                // ttl 0 and a clock that moves 1 ms per decision: every older binding has expired
                e.snat(base + round * decisions + k, 1 + (long) round * decisions + k);
            }
            long ns = System.nanoTime() - start;
            System.out.printf("netmap engine: %,d new-binding decisions/s with reclaim (4096-address pool)%n",
                    (long) (decisions / (ns / 1e9)));
        }
        assertThat(events[0]).isEqualTo(3 * decisions);
        assertThat(events[1]).isEqualTo(3 * decisions - 4096);
        assertThat(e.bindingCount()).isEqualTo(4096);
    }
}
