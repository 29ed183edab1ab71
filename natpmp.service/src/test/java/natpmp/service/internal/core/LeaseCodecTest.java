// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.Protocol;
import natpmp.service.internal.core.LeaseCodec.CorruptLeaseFileException;
import natpmp.service.internal.core.LeaseFile.StoredLease;

import org.junit.jupiter.api.Test;

import java.util.List;

class LeaseCodecTest {
    private static final LeaseFile FILE = new LeaseFile(1_700_000_000_000L, List.of(
            new StoredLease(new MappingKey(Addresses.parse("192.168.50.10"), Protocol.UDP, 5000), 51000, 7200,
                    1_700_000_007_200L),
            new StoredLease(new MappingKey(Addresses.parse("192.168.50.11"), Protocol.TCP, 22), 2222, 4_294_967_295L,
                    1_800_000_000_000L)));

    private static final String TEXT = """
            natpmp-leases 1
            epoch-start 1700000000000
            lease udp 192.168.50.10 5000 51000 7200 1700000007200
            lease tcp 192.168.50.11 22 2222 4294967295 1800000000000
            end 2
            """;

    @Test
    void goldenFormat() {
        assertThat(LeaseCodec.format(FILE)).isEqualTo(TEXT);
    }

    @Test
    void roundTrip() throws Exception {
        assertThat(LeaseCodec.parse(LeaseCodec.format(FILE))).isEqualTo(FILE);
        LeaseFile empty = new LeaseFile(5, List.of());
        assertThat(LeaseCodec.parse(LeaseCodec.format(empty))).isEqualTo(empty);
    }

    @Test
    void commentsAndBlankLinesIgnored() throws Exception {
        assertThat(LeaseCodec.parse("# saved by natpmp\n\n" + TEXT)).isEqualTo(FILE);
    }

    @Test
    void n24_truncatedFileIsCorrupt() {
        for (int cut = 0; cut < TEXT.length() - 1; cut++) {
            String part = TEXT.substring(0, cut);
            assertThatThrownBy(() -> LeaseCodec.parse(part)).as("cut at %d", cut)
                    .isInstanceOf(CorruptLeaseFileException.class);
        }
    }

    @Test
    void n24_damagedFilesAreCorrupt() {
        for (String bad : new String[] {
            TEXT.replace("natpmp-leases 1", "natpmp-leases 2"),
            TEXT.replace("end 2", "end 3"),
            TEXT.replace("udp", "sctp"),
            TEXT.replace("51000", "70000"),
            TEXT.replace("192.168.50.10", "192.168.50"),
            TEXT.replace("7200 1700000007200", "7200"),
            TEXT.replace("epoch-start 1700000000000\n", ""),
            TEXT + "lease udp 1.2.3.4 1 1 1 1\n",
            TEXT.replace("lease tcp", "lease\u0000tcp"),
            "garbage",
        }) {
            assertThatThrownBy(() -> LeaseCodec.parse(bad)).isInstanceOf(CorruptLeaseFileException.class)
                    .hasMessageStartingWith("lease file");
        }
    }
}
