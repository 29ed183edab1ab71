// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.osgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import natpmp.api.Health;
import natpmp.iptables.internal.core.Variant;
import org.junit.jupiter.api.Test;

/** The DS edge without a framework: configuration is validated into settings at activation. */
class IptablesBackendTest {
    private static IptablesBackend.Config config(Variant variant, long timeoutMs, long watchMs) {
        return new IptablesBackend.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return IptablesBackend.Config.class;
            }

            @Override
            public Variant variant() {
                return variant;
            }

            @Override
            public long timeout_ms() {
                return timeoutMs;
            }

            @Override
            public long watch_interval_ms() {
                return watchMs;
            }

            @Override
            public int service_ranking() {
                return 100;
            }
        };
    }

    @Test
    void invalidConfigurationFailsActivationWithAPreciseMessage() {
        assertThatThrownBy(() -> new IptablesBackend(config(Variant.AUTO, 5, 1000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout.ms must be in 100..600000, was 5");
    }

    @Test
    void activatesAndDeactivatesWithoutTouchingTheKernelWhileNoOwnerExists() {
        IptablesBackend backend = new IptablesBackend(config(Variant.NFT, 5000, 1000));
        try {
            assertThat(backend.name()).isEqualTo("iptables");
            assertThat(backend.health().state()).isEqualTo(Health.OK);
            backend.modified(config(Variant.NFT, 1, 1000)); // invalid: logged, previous settings kept
            backend.modified(config(Variant.NFT, 2000, 0));
            assertThat(backend.health().state()).isEqualTo(Health.OK);
        } finally {
            backend.deactivate();
        }
    }
}
