// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** Harness self-test: a missing requirement skips on a developer machine and fails under CI. */
class RequirementsTest {

    @Test
    void aMissingToolIsReportedWithAnInstallHint() {
        assertThat(Requirements.missingTools(List.of("natpmp-e2e-no-such-tool", "sh")))
                .singleElement().asString().contains("natpmp-e2e-no-such-tool");
    }

    @Test
    void missingRequirementsFailUnderCiAndSkipElsewhere() {
        List<String> missing = List.of("tool 'x'");
        assertThatThrownBy(() -> Requirements.enforce(missing, true)).isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("tool 'x'").hasMessageContaining("must not skip");
        assertThatThrownBy(() -> Requirements.enforce(missing, false)).isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("tool 'x'");
        Requirements.enforce(List.of(), true);
    }
}
