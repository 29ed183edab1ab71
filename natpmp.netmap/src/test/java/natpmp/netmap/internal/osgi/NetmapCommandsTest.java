// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.netmap.internal.core.Ipv4;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;

class NetmapCommandsTest {
    private final NetmapManager manager = new NetmapManager(ManagerSettings.of(600, true, true, false, "wan0"),
            Optional.empty(), new NetmapRuntime.Params(() -> 9_000, () -> 0, 0, 3_600_000, 2000));
    private final NetmapCommands commands = new NetmapCommands(manager);

    @AfterEach
    void stop() {
        manager.deactivate();
    }

    @Test
    void d13_d14_d16_commandsPrintTheProcTexts() {
        manager.runtime().ruleAdded("a", RuleSettings.parse("a", 1, "192.168.0.0/24", "20.0.0.0/31", "snat", "", false,
                true, false));
        manager.runtime().snat(Ipv4.toAddress(Ipv4.parse("192.168.0.7")));

        assertThat(commands.table("20.0.0.0_31")).isEqualTo(
                "192.168.0.7 -> 20.0.0.0 --- ttl: 600 lasthit: 9\n0.0.0.0 -> 20.0.0.1 --- ttl: 0 lasthit: 9\n");
        assertThat(commands.table()).startsWith("==> 20.0.0.0_31 <==\n192.168.0.7 -> 20.0.0.0");
        assertThat(commands.stat("20.0.0.0/31")).isEqualTo("1 0 2 600 \n");
        assertThat(commands.stat()).isEqualTo("20.0.0.0_31_stat: 1 0 2 600 \n");
        assertThat(commands.bind("10.1.1.1", "20.0.0.1")).isEqualTo("static binding 10.1.1.1:20.0.0.1\n");
        assertThat(commands.bind("10.1.1.1", "21.0.0.1"))
                .isEqualTo("error: postnat ip must belong to postnat prefix: 21.0.0.1\n");
        assertThat(commands.unbind("20.0.0.0")).isEqualTo("removed\n");
        assertThat(commands.unbind("20.0.0.0")).isEqualTo("no binding of 20.0.0.0\n");
        assertThat(commands.flush("20.0.0.0_31")).isEqualTo("1 bindings flushed\n");
        assertThat(commands.table("1.2.3.0_24")).isEqualTo("no pool 1.2.3.0_24\n");
    }
}
