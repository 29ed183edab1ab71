// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Validation of the configuration keys and owner names. */
class NftSettingsTest {
    @Test
    void acceptsTheDefaults() {
        NftSettings s = NftSettings.of("natpmp", 5000, 1000);
        assertThat(s.table()).isEqualTo("natpmp");
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.watchInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(NftSettings.of("natpmp", 5000, 0).watchInterval()).isZero();
        assertThat(s.engine()).isEqualTo(NftSettings.Engine.AUTO);
    }

    @Test
    void engineIsOneOfThreeInAnyCase() {
        assertThat(NftSettings.of("natpmp", 5000, 1000, "library").engine()).isEqualTo(NftSettings.Engine.LIBRARY);
        assertThat(NftSettings.of("natpmp", 5000, 1000, " PROCESS ").engine()).isEqualTo(NftSettings.Engine.PROCESS);
        assertThatThrownBy(() -> NftSettings.of("natpmp", 5000, 1000, "netlink"))
                .hasMessage("engine must be one of AUTO, LIBRARY, PROCESS, was 'netlink'");
        assertThatThrownBy(() -> NftSettings.of("natpmp", 5000, 1000, null)).hasMessageStartingWith("engine must be");
    }

    @Test
    void namesTheKeyThatIsWrong() {
        assertThatThrownBy(() -> NftSettings.of("Nat pmp", 5000, 1000)).hasMessageStartingWith("table must be");
        assertThatThrownBy(() -> NftSettings.of("1natpmp", 5000, 1000)).hasMessageStartingWith("table must be");
        assertThatThrownBy(() -> NftSettings.of("natpmp", 99, 1000)).hasMessageStartingWith("timeout.ms must be");
        assertThatThrownBy(() -> NftSettings.of("natpmp", 5000, 50))
                .hasMessageStartingWith("watch.interval.ms must be");
    }

    @Test
    void ownerNamesAreValidNftIdentifiersEvenWithALeadingDigit() {
        OwnerNames n = OwnerNames.of("4g");
        assertThat(n.chains()).containsExactly("pre_4g", "post_4g", "fwd_4g", "queue_4g");
        assertThat(n.dnat()).isEqualTo("dnat_4g");
        assertThatThrownBy(() -> OwnerNames.of("NatPmp")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerNames.of("abcdefghijklm")).isInstanceOf(IllegalArgumentException.class);
    }
}
