// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.util.List;

/**
 * What a finished (or timed-out) command produced.
 *
 * @param argv     the command as run
 * @param exitCode exit status, or -1 when the command was killed after its timeout
 * @param stdout   standard output as text (UTF-8)
 * @param stderr   standard error as text (UTF-8)
 * @param timedOut true when the command ran past its timeout and was killed
 */
public record ExecResult(List<String> argv, int exitCode, String stdout, String stderr, boolean timedOut) {

    /** Compact constructor: defensive copy of the argv list. */
    public ExecResult {
        argv = List.copyOf(argv);
    }

    /** @return true when the command exited by itself with status 0 */
    public boolean ok() {
        return !timedOut && exitCode == 0;
    }

    /** @return stdout followed by stderr, for matching and for messages */
    public String output() {
        return stdout + stderr;
    }

    /** @return a readable description for assertion messages */
    public String describe() {
        return "command " + argv + (timedOut ? " TIMED OUT" : " exited " + exitCode)
                + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
}
