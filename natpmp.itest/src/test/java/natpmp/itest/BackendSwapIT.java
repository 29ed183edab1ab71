// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import natpmp.api.MappingService;
import natpmp.api.MappingSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.common.service.ServiceAware;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * Backend selection on the real SCR wiring: {@code backend.target} in the listener's configuration picks the
 * backend, changing it swaps live (the new backend is reconciled before the old one is released), and the
 * backend in use, the time of the last swap and every backend's health are visible through MappingService.
 * Two in-memory backends stand in for iptables/nftables so this host's firewall is never touched.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class BackendSwapIT {
    private static final Duration LIMIT = Duration.ofSeconds(20);

    @InjectBundleContext
    BundleContext context;

    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<ServiceRegistration<FirewallBackend>> registrations = new ArrayList<>();

    /** Records the SPI calls it gets, in order, across both instances. */
    private final class RecordingBackend implements FirewallBackend {
        private final String name;

        RecordingBackend(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void reconcile(String owner, FirewallState desired) {
            calls.add(name + " reconcile " + owner + " " + desired.forwards().size());
        }

        @Override
        public void apply(String owner, FirewallChange change) {
            calls.add(name + " apply " + owner);
        }

        @Override
        public FirewallState installed(String owner) {
            throw new UnsupportedOperationException("not used by the listener");
        }

        @Override
        public void release(String owner) {
            calls.add(name + " release " + owner);
        }

        @Override
        public BackendHealth health() {
            return new BackendHealth(name, Health.OK, Instant.EPOCH, Optional.empty(), 0);
        }
    }

    private void register(String name, int ranking) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(FirewallBackend.BACKEND_PROPERTY, name);
        props.put(Constants.SERVICE_RANKING, ranking);
        registrations.add(context.registerService(FirewallBackend.class, new RecordingBackend(name), props));
    }

    private Path cfg() {
        return Path.of(context.getProperty("natpmp.itest.load")).resolve("natpmp.service.cfg");
    }

    private void configure(String target) throws Exception {
        Path file = cfg();
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("natpmp.service.cfg.part");
        Files.writeString(tmp, "lan=127.0.0.1\nexternal.interface=np-itest-none\nbackend.target=" + target + "\n",
                StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
    }

    @BeforeEach
    void backends() {
        register("itest-a", 10);
        register("itest-b", 20);
    }

    @AfterEach
    void cleanUp() throws Exception {
        Files.deleteIfExists(cfg());
        registrations.forEach(ServiceRegistration::unregister);
    }

    @Test
    void targetSelectsTheBackendAndChangingItSwapsLive(
            @InjectService(cardinality = 0) ServiceAware<MappingService> service) throws Exception {
        configure("(natpmp.backend=itest-a)");
        MappingService mappings = service.waitForService(LIMIT.toMillis());
        Await.until("itest-a in use", LIMIT, () -> mappings.snapshot().backend().filter("itest-a"::equals).orElse(null));
        assertThat(calls).contains("itest-a reconcile natpmp 0").noneMatch(c -> c.startsWith("itest-b"));
        MappingSnapshot before = mappings.snapshot();
        assertThat(before.lastSwap()).isPresent();
        assertThat(before.backends()).extracting(BackendHealth::backend).contains("itest-a", "itest-b");

        calls.clear();
        configure("(natpmp.backend=itest-b)");
        Await.until("itest-b in use", LIMIT, () -> mappings.snapshot().backend().filter("itest-b"::equals).orElse(null));
        Await.until("itest-a released", LIMIT, () -> calls.contains("itest-a release natpmp"));
        assertThat(calls.indexOf("itest-b reconcile natpmp 0"))
                .as("the new backend holds everything before the old one lets go")
                .isNotNegative().isLessThan(calls.indexOf("itest-a release natpmp"));
        MappingSnapshot after = mappings.snapshot();
        assertThat(after.lastSwap().orElseThrow()).isAfterOrEqualTo(before.lastSwap().orElseThrow());
        assertThat(after.health()).map(BackendHealth::backend).contains("itest-b");
    }
}
