// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

/**
 * How a command ended.
 *
 * @param exitStatus the exit status (0 = success)
 * @param stdout     what it wrote to standard output
 * @param stderr     what it wrote to standard error
 */
public record CommandResult(int exitStatus, String stdout, String stderr) {
    /** Checks every component. */
    public CommandResult {
        if (stdout == null || stderr == null) {
            throw new NullPointerException("stdout and stderr must not be null");
        }
    }

    /** @return whether the command exited with status 0 */
    public boolean succeeded() {
        return exitStatus == 0;
    }
}
