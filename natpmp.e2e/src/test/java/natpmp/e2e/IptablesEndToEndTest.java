// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.LAN2_GW;
import static natpmp.e2e.NamespaceLab.LAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_GW;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link NatPmpEndToEnd} against the iptables backend ({@code backend.target=(natpmp.backend=iptables)}). The lab's
 * base firewall has FORWARD policy DROP and nothing for DNATed flows, so mapped traffic passes only through the
 * backend's own {@code NATPMP-NATPMP-FWD} chain. Also checks the start-up announcements (N23), which do not depend
 * on the backend.
 */
class IptablesEndToEndTest extends NatPmpEndToEnd {

    @Override
    protected BackendKind backend() {
        return BackendKind.IPTABLES;
    }

    @Override
    protected boolean captureAnnouncements() {
        return true;
    }

    @Test
    @Order(1)
    void n23_startupAnnouncementsOnEveryLanInterface() {
        // The full burst of 10 copies takes 127.75 s (gaps 0.25 s doubling to 64 s); this test checks the first
        // 7 copies (0 .. 15.75 s): count, gaps 0.25/0.5/1/2/4/8 s ±30 %, 224.0.0.1:5350, source = LAN address,
        // OP 128 result 0 with the external address.
        for (Background capture : List.of(lanCapture, lan2Capture)) {
            capture.awaitOutput(out -> CapturedPacket.parse(out).size() >= 7, Duration.ofSeconds(30));
        }
        List<CapturedPacket> lan = CapturedPacket.parse(lanCapture.output());
        List<CapturedPacket> lan2 = CapturedPacket.parse(lan2Capture.output());
        assertThat(AnnouncementCheck.problems(lan, LAN_GW, WAN_GW, 7)).as("LAN 1 capture %s", lan).isEmpty();
        assertThat(AnnouncementCheck.problems(lan2, LAN2_GW, WAN_GW, 7)).as("LAN 2 capture %s", lan2).isEmpty();
    }
}
