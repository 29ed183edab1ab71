// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Harness self-test: tcpdump parsing and the N23 announcement checker on synthetic captures. */
class AnnouncementCheckTest {

    /** One announcement as tcpdump -n -tt -x prints it (captured from socat in a namespace). */
    private static String dump(double time, String src, String addressHex) {
        return String.format("%.6f IP %s.5351 > 224.0.0.1.5350: UDP, length 12%n", time, src)
                + "\t0x0000:  4500 0028 7670 4000 0111 30aa c0a8 3201\n"
                + "\t0x0010:  e000 0001 14e7 14e6 0014 d2d0 0080 0000\n"
                + "\t0x0020:  0000 0005 " + addressHex + "\n";
    }

    private static String burst(double[] times, String src, String addressHex) {
        StringBuilder text = new StringBuilder("listening on eth0, link-type EN10MB (Ethernet)\n");
        for (double t : times) {
            text.append(dump(1000 + t, src, addressHex));
        }
        return text.toString();
    }

    private static final double[] RFC_SCHEDULE = {0, 0.25, 0.75, 1.75, 3.75, 7.75, 15.75};

    @Test
    void parsesHeaderAndPayload() {
        List<CapturedPacket> packets = CapturedPacket.parse(dump(1795269960.171847, "192.168.50.1", "cb00 7101"));
        assertThat(packets).hasSize(1);
        CapturedPacket p = packets.get(0);
        assertThat(p.src()).isEqualTo("192.168.50.1");
        assertThat(p.srcPort()).isEqualTo(5351);
        assertThat(p.dst()).isEqualTo("224.0.0.1");
        assertThat(p.dstPort()).isEqualTo(5350);
        assertThat(java.util.HexFormat.of().formatHex(p.payload())).isEqualTo("008000000000" + "0005cb007101");
    }

    @Test
    void n23_acceptsTheRfcSchedule() {
        List<CapturedPacket> packets = CapturedPacket.parse(burst(RFC_SCHEDULE, "192.168.50.1", "cb00 7101"));
        assertThat(AnnouncementCheck.problems(packets, "192.168.50.1", "203.0.113.1", 7)).isEmpty();
    }

    @Test
    void n23_rejectsAConstantInterval() {
        double[] everySecond = {0, 1, 2, 3, 4, 5, 6};
        List<CapturedPacket> packets = CapturedPacket.parse(burst(everySecond, "192.168.50.1", "cb00 7101"));
        assertThat(AnnouncementCheck.problems(packets, "192.168.50.1", "203.0.113.1", 7))
                .anySatisfy(p -> assertThat(p).startsWith("gap 1 is 1.000 s"));
    }

    @Test
    void n23_rejectsTooFewWrongSourceAndWrongAddress() {
        List<CapturedPacket> few = CapturedPacket.parse(burst(new double[] {0, 0.25}, "192.168.50.1", "cb00 7101"));
        assertThat(AnnouncementCheck.problems(few, "192.168.50.1", "203.0.113.1", 7))
                .singleElement().asString().contains("captured 2");
        List<CapturedPacket> wrong = CapturedPacket.parse(burst(RFC_SCHEDULE, "10.0.0.1", "0000 0000"));
        List<String> problems = AnnouncementCheck.problems(wrong, "192.168.50.1", "203.0.113.1", 7);
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("comes from 10.0.0.1"));
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("does not carry external address"));
    }
}
