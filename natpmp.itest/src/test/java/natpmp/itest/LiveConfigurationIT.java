// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * Configuration dropped into the FileInstall folder reaches the NAT-PMP listener live: a hot key is applied
 * through {@code @Modified} by the same component instance; an invalid value is refused with a logged reason
 * and the previous settings stay in force. The listener is observed from outside, as a client sees it: on
 * loopback, with an external interface that does not exist (so an external-address request is answered with
 * result 3, RFC 6886 §3.2), and {@code enabled=false} closes port 5351 (§3.8). A test backend filter keeps
 * the real iptables backend away from this host's firewall.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class LiveConfigurationIT {
    private static final String PID = "natpmp.service";
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 5351);

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ServiceComponentRuntime scr;

    private Path cfg() {
        return Path.of(context.getProperty("natpmp.itest.load")).resolve(PID + ".cfg");
    }

    private void write(String text) throws IOException {
        Path file = cfg();
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(PID + ".cfg.part");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
    }

    private static String config(boolean enabled, String extra) {
        return "lan=127.0.0.1\n"
                + "external.interface=np-itest-none\n"
                + "backend.target=(natpmp.backend=itest-none)\n"
                + "enabled=" + enabled + "\n" + extra;
    }

    @AfterEach
    void removeConfiguration() throws Exception {
        Files.deleteIfExists(cfg());
        Await.until("listener configuration removed", LIMIT, () -> activeConfiguration().isEmpty());
    }

    @Test
    void hotKeyReachesTheListenerThroughModifiedWithoutReactivation() throws Exception {
        write(config(true, ""));
        long id = Await.until("listener active", LIMIT, () -> activeConfiguration().map(c -> c.id).orElse(null));
        Await.until("external address answer (result 3: no external address)", LIMIT,
                () -> externalAddressResult().filter(r -> r == 3).orElse(null));

        write(config(false, ""));
        Await.until("port 5351 closed after enabled=false", LIMIT, () -> externalAddressResult().isEmpty());
        assertThat(activeConfiguration()).map(c -> c.id).as("same component configuration: no reactivation")
                .contains(id);

        write(config(true, ""));
        Await.until("answers again after enabled=true", LIMIT, () -> externalAddressResult().isPresent());
        assertThat(activeConfiguration()).map(c -> c.id).contains(id);
    }

    @Test
    void invalidValueIsRefusedWithALoggedReasonAndThePreviousSettingsStay() throws Exception {
        write(config(true, ""));
        long id = Await.until("listener active", LIMIT, () -> activeConfiguration().map(c -> c.id).orElse(null));
        Await.until("answering", LIMIT, () -> externalAddressResult().isPresent());

        Path log = Path.of(context.getProperty("natpmp.itest.log"));
        long logSizeBefore = Files.exists(log) ? Files.size(log) : 0;
        // enabled=false would close the port, but the update as a whole is invalid: nothing of it applies
        write(config(false, "port.low=70000\n"));
        String reason = Await.until("logged reason", LIMIT, () -> newLogText(log, logSizeBefore).lines()
                .filter(l -> l.contains("port.low") && l.contains("70000")).findFirst().orElse(null));
        assertThat(reason).containsIgnoringCase("natpmp.service");
        assertThat(externalAddressResult()).as("previous settings stay: still enabled").isPresent();
        assertThat(activeConfiguration()).map(c -> c.id).contains(id);
    }

    private static String newLogText(Path log, long from) {
        try {
            byte[] all = Files.readAllBytes(log);
            return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The listener's active component configuration, if there is one. */
    private Optional<ComponentConfigurationDTO> activeConfiguration() {
        Bundle bundle = Arrays.stream(context.getBundles()).filter(b -> "natpmp.service".equals(b.getSymbolicName()))
                .findFirst().orElseThrow();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle)) {
            if (Arrays.asList(d.configurationPid).contains(PID)) {
                Collection<ComponentConfigurationDTO> configs = scr.getComponentConfigurationDTOs(d);
                return configs.stream().filter(c -> c.state == ComponentConfigurationDTO.ACTIVE
                        || c.state == ComponentConfigurationDTO.SATISFIED).findFirst();
            }
        }
        return Optional.empty();
    }

    /** Sends an external-address request (RFC 6886 §3.2) and returns the result code, empty without answer. */
    private static Optional<Integer> externalAddressResult() {
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.bind(new InetSocketAddress("127.0.0.1", 0));
            channel.connect(SERVER);
            channel.socket().setSoTimeout(500);
            channel.write(ByteBuffer.wrap(new byte[] {0, 0}));
            ByteBuffer reply = ByteBuffer.allocate(64);
            int n = channel.socket().getChannel() == null ? -1 : receive(channel, reply);
            if (n < 12 || reply.get(0) != 0 || (reply.get(1) & 0xff) != 128) {
                return Optional.empty();
            }
            return Optional.of(reply.getShort(2) & 0xffff);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int receive(DatagramChannel channel, ByteBuffer into) throws IOException {
        java.net.DatagramPacket packet = new java.net.DatagramPacket(into.array(), into.capacity());
        try {
            channel.socket().receive(packet);
            return packet.getLength();
        } catch (SocketTimeoutException | PortUnreachableException e) {
            return -1;
        }
    }
}
