// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class IptablesSettingsTest {
    @Test
    void validValuesBecomeDurations() {
        IptablesSettings s = IptablesSettings.of(Variant.NFT, 5000, 1000);
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.watchInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(IptablesSettings.of(Variant.AUTO, 100, 0).watchInterval()).isZero();
    }

    @Test
    void invalidValuesNameTheKey() {
        assertThatThrownBy(() -> IptablesSettings.of(Variant.AUTO, 0, 1000))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout.ms must be in 100..600000, was 0");
        assertThatThrownBy(() -> IptablesSettings.of(Variant.AUTO, 5000, 50))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("watch.interval.ms must be 0 (off) or in 100..3600000, was 50");
        assertThatThrownBy(() -> IptablesSettings.of(null, 5000, 1000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("variant");
    }
}
