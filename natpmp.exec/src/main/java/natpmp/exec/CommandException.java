// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

/**
 * A command could not be run to its end: the program is missing or not executable, or it was killed
 * after its timeout. (A command that ran and exited non-zero is a {@link CommandResult}, not this.)
 */
public final class CommandException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Command command;
    private final boolean timedOut;
    private final String stderr;

    /**
     * @param message  what went wrong
     * @param command  the command
     * @param timedOut whether it was killed after its timeout
     * @param stderr   what it wrote to standard error before that
     * @param cause    the underlying exception, or null
     */
    public CommandException(String message, Command command, boolean timedOut, String stderr, Throwable cause) {
        super(message, cause);
        this.command = command;
        this.timedOut = timedOut;
        this.stderr = stderr == null ? "" : stderr;
    }

    /** @return the command */
    public Command command() {
        return command;
    }

    /** @return whether the command was killed after its timeout */
    public boolean timedOut() {
        return timedOut;
    }

    /** @return what the command wrote to standard error */
    public String stderr() {
        return stderr;
    }
}
