// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.util.List;

/**
 * A kernel operation failed: the command could not be started, exited non-zero, or timed out. Carries
 * the argv, the exit status and the command's standard error so the cause reaches the log and the console.
 */
public final class FirewallException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Exit status used when the command did not exit by itself (not started, timed out). */
    public static final int NO_EXIT = -1;

    private final List<String> command;
    private final int exitStatus;
    private final String stderr;

    /**
     * @param message    what failed
     * @param command    the argv that ran (may be empty for in-process operations)
     * @param exitStatus the exit status, or {@link #NO_EXIT}
     * @param stderr     what the command wrote to standard error
     * @param cause      an underlying exception, or null
     */
    public FirewallException(String message, List<String> command, int exitStatus, String stderr, Throwable cause) {
        super(message + describe(command, exitStatus, stderr), cause);
        this.command = List.copyOf(command);
        this.exitStatus = exitStatus;
        this.stderr = stderr == null ? "" : stderr;
    }

    /**
     * @param message what failed
     */
    public FirewallException(String message) {
        this(message, List.of(), NO_EXIT, "", null);
    }

    private static String describe(List<String> command, int exitStatus, String stderr) {
        StringBuilder b = new StringBuilder();
        if (!command.isEmpty()) {
            b.append(": ").append(String.join(" ", command));
        }
        if (exitStatus != NO_EXIT) {
            b.append(" exited with status ").append(exitStatus);
        }
        if (stderr != null && !stderr.isBlank()) {
            b.append(": ").append(stderr.strip());
        }
        return b.toString();
    }

    /** @return the argv of the failed command */
    public List<String> command() {
        return command;
    }

    /** @return the exit status, or {@link #NO_EXIT} */
    public int exitStatus() {
        return exitStatus;
    }

    /** @return the command's standard error */
    public String stderr() {
        return stderr;
    }
}
