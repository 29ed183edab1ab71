// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.ip;
import static natpmp.netmap.internal.core.Rules.snat;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The /proc texts byte for byte against golden files (D13, D14, D15, D16). */
class ProcFormatTest {
    private static final long T0 = 7_000_000; // monotonic ms: lasthit of never-bound entries = 7000
    private static final Cidr POOL = Cidr.parse("20.0.0.0/29");

    private static String golden(String name) throws IOException {
        try (InputStream in = ProcFormatTest.class.getResourceAsStream(name)) {
            assertThat(in).as("golden file " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** /29 with a short-ttl rule and a default-ttl rule, one static, one removed, three never bound. */
    private static NetmapAllocator scenario(NetmapSettings settings) {
        NetmapAllocator e = new NetmapAllocator(settings, NetmapEvents.NONE);
        e.configure(List.of(snat("short", 1, "192.168.1.0/24", "20.0.0.0/29", 5, false),
                snat("default", 2, "192.168.0.0/24", "20.0.0.0/29")), T0);
        e.snat(ip("192.168.0.10"), T0);          // .0 ttl 600 from T0
        e.snat(ip("192.168.1.20"), T0 + 1_000);  // .1 ttl 5 from T0+1s -> expired at the end
        e.snat(ip("192.168.0.11"), T0 + 2_000);  // .2 ttl 600 from T0+2s
        e.snat(ip("192.168.0.12"), T0 + 3_000);  // .3, removed below
        e.remove(ip("20.0.0.3"), T0 + 4_000);    // stamp T0+4s-1ms
        e.addStatic(ip("10.0.0.7"), ip("20.0.0.6"), T0 + 4_000);
        e.snat(ip("192.168.0.10"), T0 + 9_500);  // refresh .0 -> moves to the LRU tail
        return e;
    }

    @Test
    void d14_v2TableIsOneLinePerAddressInAscendingOrder() throws IOException {
        NetmapAllocator e = scenario(NetmapSettings.DEFAULTS);

        assertThat(e.procTable(POOL, T0 + 10_000, false)).isEqualTo(golden("20.0.0.0_29.v2.golden"));
    }

    @Test
    void d14_v1TableIsInLruOrder() throws IOException {
        NetmapAllocator e = scenario(NetmapSettings.DEFAULTS);

        assertThat(e.procTable(POOL, T0 + 10_000, true)).isEqualTo(golden("20.0.0.0_29.v1.golden"));
    }

    @Test
    void d14_ttlIsTruncatedTowardZero() {
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, NetmapEvents.NONE);
        e.configure(List.of(snat("r", 1, "192.168.0.0/24", "20.0.0.5/32", 3, false)), 0);
        e.snat(ip("192.168.0.1"), 0);

        assertThat(e.procTable(Cidr.parse("20.0.0.5/32"), 2_500, false)).isEqualTo(
                "192.168.0.1 -> 20.0.0.5 --- ttl: 0 lasthit: 0\n");
        assertThat(e.procTable(Cidr.parse("20.0.0.5/32"), 3_999, false)).contains("ttl: 0 ");
        assertThat(e.procTable(Cidr.parse("20.0.0.5/32"), 6_000, false)).contains("ttl: -3 ");
    }

    @Test
    void d15_kernelLasthitFormulaShiftsByTheRuleTtl() {
        NetmapAllocator e = new NetmapAllocator(new NetmapSettings(600, true, true), NetmapEvents.NONE);
        e.configure(List.of(snat("r200", 1, "192.168.1.0/24", "20.0.0.0/30", 200, false),
                snat("rdef", 2, "192.168.0.0/24", "20.0.0.0/30")), 1_000_000);
        e.snat(ip("192.168.1.1"), 1_000_000);
        e.snat(ip("192.168.0.1"), 1_000_000);

        // (stamp - default_ttl) / HZ: 1000 + 200 - 600 = 600 and 1000 + 600 - 600 = 1000; never bound: 1000 - 600
        assertThat(e.procTable(Cidr.parse("20.0.0.0/30"), 1_000_000, false)).isEqualTo(
                "192.168.1.1 -> 20.0.0.0 --- ttl: 200 lasthit: 600\n"
                        + "192.168.0.1 -> 20.0.0.1 --- ttl: 600 lasthit: 1000\n"
                        + "0.0.0.0 -> 20.0.0.2 --- ttl: 0 lasthit: 400\n"
                        + "0.0.0.0 -> 20.0.0.3 --- ttl: 0 lasthit: 400\n");
    }

    @Test
    void d15_monotonicLasthitIsTheSecondOfTheLastHit() {
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, NetmapEvents.NONE);
        e.configure(List.of(snat("r", 1, "192.168.0.0/24", "20.0.0.0/32", -1, false)), 1_000);
        e.restore(new NetmapAllocator.StoredBinding(ip("192.168.0.1"), ip("20.0.0.0"), 100_000, false), 1_000);

        e.snat(ip("192.168.0.1"), 42_700); // negative ttl: stamp untouched, hit recorded

        assertThat(e.procTable(Cidr.parse("20.0.0.0/32"), 42_700, false))
                .isEqualTo("192.168.0.1 -> 20.0.0.0 --- ttl: 58 lasthit: 42\n");
    }

    @Test
    void d16_v2StatLineOfTheScenario() throws IOException {
        NetmapAllocator e = scenario(NetmapSettings.DEFAULTS);

        assertThat(e.procStat(POOL, T0 + 10_000)).isEqualTo(golden("20.0.0.0_29_stat.golden"));
    }

    @Test
    void d13_fileNamesAreNetUnderscoreBits() {
        assertThat(List.of(Cidr.parsePrefix("20.0.0.0/16").procName(), Cidr.parsePrefix("20.0.0.0/24").procName(),
                Cidr.parsePrefix("20.0.0.7/32").procName(), Cidr.parsePrefix("20.0.0.0/26").procName() + "_stat"))
                .containsExactly("20.0.0.0_16", "20.0.0.0_24", "20.0.0.7_32", "20.0.0.0_26_stat");
    }

    @Test
    void d18_largestPoolHas65536Entries() {
        NetmapAllocator e = new NetmapAllocator(NetmapSettings.DEFAULTS, NetmapEvents.NONE);
        e.configure(List.of(new NetmapRule("r", 1, Optional.empty(), Optional.of(Cidr.parsePrefix("20.0.0.0/16")),
                Hook.SNAT, OptionalInt.empty(), false, true, false)), 0);

        String table = e.procTable(Cidr.parse("20.0.0.0/16"), 0, false);

        assertThat(table.lines().count()).isEqualTo(65536);
        assertThat(table).endsWith("0.0.0.0 -> 20.0.255.255 --- ttl: 0 lasthit: 0\n");
        assertThat(e.procStat(Cidr.parse("20.0.0.0/16"), 0)).isEqualTo("0 0 65536 0 \n");
    }
}
