// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SystemProcessRunnerTest {
    private final SystemProcessRunner runner = new SystemProcessRunner();

    @Test
    void passesStdinAndKeepsStdoutAndStderr() throws Exception {
        CommandResult r = runner.run(new Command(List.of("sh", "-c", "cat; echo oops >&2; exit 3"), "hello\n",
                Duration.ofSeconds(5)));
        assertThat(r.exitStatus()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("hello\n");
        assertThat(r.stderr()).isEqualTo("oops\n");
        assertThat(r.succeeded()).isFalse();
    }

    @Test
    void argumentsAreNeverInterpretedByAShell() throws Exception {
        CommandResult r = runner.run(Command.of(Duration.ofSeconds(5), "echo", "$(id)", ";", "ls"));
        assertThat(r.stdout()).isEqualTo("$(id) ; ls\n");
    }

    @Test
    void missingProgramIsACommandException() {
        assertThatThrownBy(() -> runner.run(Command.of(Duration.ofSeconds(5), "/nonexistent/iptables")))
                .isInstanceOf(CommandException.class)
                .hasMessageContaining("cannot run /nonexistent/iptables")
                .satisfies(e -> assertThat(((CommandException) e).timedOut()).isFalse());
    }

    @Test
    void slowProgramIsKilledAfterItsTimeout() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> runner.run(Command.of(Duration.ofMillis(300), "sleep", "30")))
                .isInstanceOf(CommandException.class)
                .satisfies(e -> assertThat(((CommandException) e).timedOut()).isTrue());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void findsProgramsOnThePath() {
        assertThat(runner.isExecutable("sh")).isTrue();
        assertThat(runner.isExecutable("no-such-program-natpmp")).isFalse();
        assertThat(runner.isExecutable("/bin/sh")).isTrue();
    }
}
