// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.Protocol;
import natpmp.service.internal.core.LeaseCodec.CorruptLeaseFileException;
import natpmp.service.internal.core.LeaseFile.StoredLease;

import org.junit.jupiter.api.DisplayName;
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

    private static final String JOURNAL_SNAPSHOT = """
            natpmp-leases 1
            epoch-start 1700000000000
            journal 7
            lease udp 192.168.50.10 5000 51000 7200 1700000007200
            end 1
            """;

    private static LeaseFile snapshot() throws CorruptLeaseFileException {
        return LeaseCodec.parse(JOURNAL_SNAPSHOT);
    }

    private static StoredLease stored(String client, Protocol p, int in, int ext, long lifetime, long expiry) {
        return new StoredLease(new MappingKey(Addresses.parse(client), p, in), ext, lifetime, expiry);
    }

    @Test
    @DisplayName("N24: a snapshot names the journal generation that continues it; old files mean none")
    void n24_snapshotCarriesJournalGeneration() throws Exception {
        LeaseFile s = snapshot();
        assertThat(s.journal()).isEqualTo(7);
        assertThat(LeaseCodec.format(s)).isEqualTo(JOURNAL_SNAPSHOT);
        assertThat(LeaseCodec.parse(TEXT).journal()).isZero();
        assertThatThrownBy(() -> LeaseCodec.parse(JOURNAL_SNAPSHOT.replace("journal 7", "journal 7\njournal 8")))
                .isInstanceOf(CorruptLeaseFileException.class);
    }

    @Test
    @DisplayName("N24: journal lines replay in order over the snapshot; the last line for a key wins")
    void n24_journalReplaysInOrder() throws Exception {
        StringBuilder j = new StringBuilder(LeaseCodec.journalHeader(7));
        LeaseCodec.appendLease(j, stored("192.168.50.11", Protocol.TCP, 22, 2222, 3600, 1_700_000_003_600L));
        LeaseCodec.appendDrop(j, new MappingKey(Addresses.parse("192.168.50.10"), Protocol.UDP, 5000));
        LeaseCodec.appendLease(j, stored("192.168.50.10", Protocol.UDP, 5000, 52000, 60, 1_700_000_000_060L));
        LeaseCodec.appendDrop(j, new MappingKey(Addresses.parse("192.168.50.11"), Protocol.TCP, 22));
        LeaseCodec.appendLease(j, stored("192.168.50.11", Protocol.TCP, 22, 2223, 120, 1_700_000_000_120L));
        assertThat(j.toString()).startsWith("natpmp-journal 1 7\nlease tcp 192.168.50.11 22 2222 3600 ")
                .contains("\ndrop udp 192.168.50.10 5000\n");

        LeaseCodec.Replay r = LeaseCodec.replay(snapshot(), j.toString());
        assertThat(r.problem()).isEmpty();
        assertThat(r.torn()).isFalse();
        assertThat(r.applied()).isEqualTo(5);
        assertThat(r.state().leases()).containsExactlyInAnyOrder(
                stored("192.168.50.10", Protocol.UDP, 5000, 52000, 60, 1_700_000_000_060L),
                stored("192.168.50.11", Protocol.TCP, 22, 2223, 120, 1_700_000_000_120L));
        assertThat(r.state().epochStartWallMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(r.state().journal()).isEqualTo(7);
    }

    @Test
    @DisplayName("N24: a line torn by kill -9 mid-append is ignored, everything before it applies")
    void n24_tornLastLineIgnored() throws Exception {
        String j = LeaseCodec.journalHeader(7) + "drop udp 192.168.50.10 5000\n" + "lease tcp 192.168.50.11 22 22";
        LeaseCodec.Replay r = LeaseCodec.replay(snapshot(), j);
        assertThat(r.torn()).isTrue();
        assertThat(r.problem()).isEmpty();
        assertThat(r.applied()).isEqualTo(1);
        assertThat(r.state().leases()).isEmpty();

        LeaseCodec.Replay headerOnlyTorn = LeaseCodec.replay(snapshot(), "natpmp-jour");
        assertThat(headerOnlyTorn.state()).isEqualTo(snapshot());
        assertThat(headerOnlyTorn.torn()).isTrue();
    }

    @Test
    @DisplayName("N24: a journal of another generation (crash during compaction) is ignored")
    void n24_staleJournalIgnored() throws Exception {
        String j = LeaseCodec.journalHeader(6) + "drop udp 192.168.50.10 5000\n";
        LeaseCodec.Replay r = LeaseCodec.replay(snapshot(), j);
        assertThat(r.applied()).isZero();
        assertThat(r.problem()).hasValueSatisfying(p -> assertThat(p).contains("generation 6"));
        assertThat(r.state()).isEqualTo(snapshot());
    }

    @Test
    @DisplayName("N24: a damaged line in the middle stops the replay there")
    void n24_damagedLineStopsReplay() throws Exception {
        String j = LeaseCodec.journalHeader(7) + "lease tcp 192.168.50.11 22 2222 3600 1700000003600\n"
                + "lease tcp 192.168.50.12 99999 1 1 1\n" + "drop udp 192.168.50.10 5000\n";
        LeaseCodec.Replay r = LeaseCodec.replay(snapshot(), j);
        assertThat(r.applied()).isEqualTo(1);
        assertThat(r.problem()).isPresent();
        assertThat(r.state().leases()).hasSize(2);
    }
}
