// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import java.time.Duration;
import java.util.List;

/**
 * A command to run: an argv list, the text for its standard input, and a time limit.
 *
 * @param argv    program and arguments; never interpreted by a shell
 * @param stdin   text written to the command's standard input (empty for none)
 * @param timeout how long the command may run before it is killed
 */
public record Command(List<String> argv, String stdin, Duration timeout) {
    /** Checks and copies every component. */
    public Command {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        if (stdin == null) {
            throw new NullPointerException("stdin");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
    }

    /**
     * @param timeout time limit
     * @param argv    program and arguments
     * @return a command without standard input
     */
    public static Command of(Duration timeout, String... argv) {
        return new Command(List.of(argv), "", timeout);
    }

    /**
     * @param text the standard input
     * @return this command with {@code text} on standard input
     */
    public Command withStdin(String text) {
        return new Command(argv, text, timeout);
    }
}
