// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.exec;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.netmap.internal.core.ConntrackEvent;
import natpmp.netmap.internal.core.Ipv4;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

class ConntrackMonitorTest {
    private static final String LINE = "[1795271300.616334]\t    [NEW] tcp      6 120 SYN_SENT src=192.168.0.10"
            + " dst=1.1.1.1 sport=60518 dport=80 [UNREPLIED] src=1.1.1.1 dst=20.0.0.0 sport=80 dport=60518";

    @Test
    void d6_eventsOfTheProcessReachTheSinkAndTheProcessIsRestarted() throws Exception {
        BlockingQueue<ConntrackEvent> events = new LinkedBlockingQueue<>();
        // printf stands in for conntrack: prints two events and a summary, exits, and is started again
        try (ConntrackMonitor monitor = new ConntrackMonitor(List.of("printf", "%s\\n", LINE, "summary line", LINE),
                events::addAll, 10, 10, () -> System.nanoTime() / 1_000_000)) {
            ConntrackEvent expected = new ConntrackEvent(6, Ipv4.parse("192.168.0.10"), Ipv4.parse("1.1.1.1"),
                    Ipv4.parse("1.1.1.1"), Ipv4.parse("20.0.0.0"));
            for (int i = 0; i < 4; i++) { // 4 > 2 per run: proves the restart
                assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo(expected);
            }
        }
    }
}
