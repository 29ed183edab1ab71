// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.netmap.internal.core.NetmapAllocator.StoredBinding;

import org.junit.jupiter.api.Test;

import java.util.List;

class BindingFileTest {
    @Test
    void bindingsRoundTripAndAgeByTheWallTimeThatPassed() {
        List<StoredBinding> saved = List.of(new StoredBinding(ip("192.168.0.1"), ip("20.0.0.0"), 300_000, false),
                new StoredBinding(ip("10.0.0.7"), ip("20.0.0.6"), -5, true));

        String text = BindingFile.format(saved, 1_700_000_000_000L);
        BindingFile.Saved loaded = BindingFile.parse(text);

        assertThat(text).isEqualTo("natpmp.netmap.bindings 1 1700000000000\n"
                + "192.168.0.1 20.0.0.0 300000 dynamic\n10.0.0.7 20.0.0.6 -5 static\n");
        assertThat(loaded.bindings()).isEqualTo(saved);
        assertThat(loaded.aged(1_700_000_060_000L)).containsExactly(
                new StoredBinding(ip("192.168.0.1"), ip("20.0.0.0"), 240_000, false), saved.get(1));
        assertThat(loaded.aged(1_600_000_000_000L)).isEqualTo(saved); // clock went back: nothing added
    }

    @Test
    void malformedFilesNameTheLine() {
        assertThatThrownBy(() -> BindingFile.parse("something else\n")).hasMessageContaining("line 1");
        assertThatThrownBy(() -> BindingFile.parse("natpmp.netmap.bindings 1 5\n1.2.3.4 5.6.7.8 x dynamic\n"))
                .hasMessageContaining("line 2");
        assertThatThrownBy(() -> BindingFile.parse("natpmp.netmap.bindings 1 5\n1.2.3 5.6.7.8 1 dynamic\n"))
                .hasMessageContaining("line 2");
    }
}
