// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConsolePasswordTest {
    @Test
    void hashUsesTheConsolesStoredForm() {
        // known vector: SHA-256 applied once to "abc" (salt "a", password "bc")
        assertThat(ConsolePassword.hash("bc", "a", 1))
                .isEqualTo("{sha-256}a-1-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        String stored = ConsolePassword.hash("secret", new SplittableRandom(1));
        assertThat(stored).startsWith("{sha-256}").contains("-1000-");
        assertThat(ConsolePassword.isStoredForm(stored)).isTrue();
        assertThat(ConsolePassword.isStoredForm("admin")).isFalse();
    }

    @Test
    void saltMakesEqualPasswordsHashDifferently() {
        SplittableRandom r = new SplittableRandom(7);
        assertThat(ConsolePassword.hash("same", r)).isNotEqualTo(ConsolePassword.hash("same", r));
    }

    @Test
    void generatedPasswordsAreLongAndDiffer() {
        SplittableRandom r = new SplittableRandom(3);
        String a = ConsolePassword.generate(r);
        String b = ConsolePassword.generate(r);
        assertThat(a).hasSize(ConsolePassword.GENERATED_LENGTH).matches("[A-Za-z0-9]+").isNotEqualTo(b);
    }
}
