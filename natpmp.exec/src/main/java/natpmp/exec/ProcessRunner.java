// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import org.osgi.annotation.versioning.ConsumerType;

/** Runs commands. The real one is {@link SystemProcessRunner}; tests use {@link ScriptedProcessRunner}. */
@ConsumerType
public interface ProcessRunner {
    /**
     * Runs a command to its end.
     *
     * @param command the command
     * @return exit status and output
     * @throws CommandException if it could not be started or was killed after its timeout
     */
    CommandResult run(Command command) throws CommandException;

    /**
     * Finds a program on the search path.
     *
     * @param program a program name without slash, or a path
     * @return whether it exists and is executable
     */
    boolean isExecutable(String program);
}
