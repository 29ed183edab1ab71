// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScriptedProcessRunnerTest {
    @Test
    void replaysInOrderAndRejectsAnythingElse() throws Exception {
        ScriptedProcessRunner fake = new ScriptedProcessRunner(Set.of("iptables"))
                .expect("one", "a", "1")
                .expect(List.of("b"), s -> s.equals("script"), new ScriptedProcessRunner.Throws(true));
        assertThat(fake.run(Command.of(Duration.ofSeconds(1), "a", "1")).stdout()).isEqualTo("one");
        assertThatThrownBy(() -> fake.run(Command.of(Duration.ofSeconds(1), "b").withStdin("other")))
                .isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> fake.run(Command.of(Duration.ofSeconds(1), "c")))
                .isInstanceOf(AssertionError.class);
        assertThat(fake.isExecutable("iptables")).isTrue();
        assertThat(fake.isExecutable("nft")).isFalse();
    }
}
