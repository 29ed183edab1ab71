// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.api.Protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

class ProcNetPortsTest {
    @TempDir
    Path dir;

    private static final String HEADER =
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    @Test
    void n32_listeningTcpAndUnconnectedUdpAreInUseAndCachedForOneSecond() throws Exception {
        Files.writeString(dir.resolve("tcp"), HEADER
                + "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n"
                + "   1: 0100007F:1F90 0200007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2\n");
        Files.writeString(dir.resolve("tcp6"), HEADER
                + "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0:0 00:0 0 0 0 3\n");
        Files.writeString(dir.resolve("udp"), HEADER
                + "   0: 00000000:14E7 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4\n"
                + "   1: 0100007F:0035 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 5\n");
        AtomicLong clock = new AtomicLong();
        ProcNetPorts ports = new ProcNetPorts(dir, clock::get);
        assertThat(ports.inUse(Protocol.TCP, 22)).isTrue();
        assertThat(ports.inUse(Protocol.TCP, 80)).as("tcp6 listener").isTrue();
        assertThat(ports.inUse(Protocol.TCP, 8080)).as("established, not listening").isFalse();
        assertThat(ports.inUse(Protocol.UDP, 5351)).isTrue();
        assertThat(ports.inUse(Protocol.UDP, 53)).as("connected UDP socket").isFalse();

        Files.writeString(dir.resolve("tcp"), HEADER);
        clock.set(999);
        assertThat(ports.inUse(Protocol.TCP, 22)).as("cached").isTrue();
        clock.set(1000);
        assertThat(ports.inUse(Protocol.TCP, 22)).as("re-read").isFalse();
    }

    @Test
    void missingFilesMeanNothingInUse() {
        assertThat(new ProcNetPorts(dir.resolve("absent"), () -> 0).inUse(Protocol.UDP, 5351)).isFalse();
    }
}
