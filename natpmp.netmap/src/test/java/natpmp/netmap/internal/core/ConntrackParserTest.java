// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.ip;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

class ConntrackParserTest {
    @Test
    void d6_parsesRecordedConntrackOutputAndSkipsTheSummary() throws IOException {
        // recorded from conntrack v1.4.7 in a scratch network namespace (UDP and TCP to loopback)
        String text;
        try (InputStream in = getClass().getResourceAsStream("conntrack-events.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }

        List<ConntrackEvent> events = text.lines().map(ConntrackParser::parse).flatMap(Optional::stream).toList();

        int lo = ip("127.0.0.1");
        assertThat(events).containsExactly(new ConntrackEvent(17, lo, lo, lo, lo),
                new ConntrackEvent(6, lo, lo, lo, lo));
    }

    @Test
    void d6_originalAndReplyTuplesShowTheTranslation() {
        Optional<ConntrackEvent> e = ConntrackParser.parse("[1795271300.6]\t    [NEW] icmp     1 30 src=192.168.0.10"
                + " dst=1.1.1.1 type=8 code=0 id=7 [UNREPLIED] src=1.1.1.1 dst=20.0.0.0 type=0 code=0 id=7 zone=3");

        assertThat(e).contains(new ConntrackEvent(1, ip("192.168.0.10"), ip("1.1.1.1"), ip("1.1.1.1"), ip("20.0.0.0")));
    }

    @Test
    void d6_otherLinesYieldNothing() {
        assertThat(ConntrackParser.parse("conntrack v1.4.7 (conntrack-tools): 2 flow events have been shown."))
                .isEmpty();
        assertThat(ConntrackParser.parse("    [NEW] tcp      6 120 SYN_SENT src=::1 dst=::1 sport=1 dport=2 [UNREPLIED]"
                + " src=::1 dst=::1 sport=2 dport=1")).isEmpty();
        assertThat(ConntrackParser.parse("    [NEW] tcp      6 120 SYN_SENT src=1.2.3.4")).isEmpty();
        assertThat(ConntrackParser.parse("[DESTROY] tcp 6 src=1.2.3.4 dst=1.2.3.5 src=1.2.3.5 dst=1.2.3.4")).isEmpty();
    }
}
