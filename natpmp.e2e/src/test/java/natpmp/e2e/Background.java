// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * A process started in the background by a {@link NamespaceLab} (a socat listener, tcpdump, the daemon).
 * Standard output and standard error go to one log file. It is stopped by PID, with its descendants.
 */
public final class Background {

    private final String name;
    private final List<String> argv;
    private final Process process;
    private final Path log;

    Background(String name, List<String> argv, Process process, Path log) {
        this.name = name;
        this.argv = List.copyOf(argv);
        this.process = process;
        this.log = log;
    }

    /** @return a short label used in messages */
    public String name() {
        return name;
    }

    /** @return the command as started */
    public List<String> argv() {
        return argv;
    }

    /** @return the PID of the started process ({@code ip netns exec} execs, so this is the tool itself) */
    public long pid() {
        return process.pid();
    }

    /** @return the process handle, for exit codes and signals */
    public Process process() {
        return process;
    }

    /** @return the file that receives stdout and stderr */
    public Path log() {
        return log;
    }

    /** @return true while the process runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return everything the process has written so far */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Polls the log until {@code condition} holds, the process dies, or {@code timeout} passes.
     *
     * @param condition what to wait for in the whole output
     * @param timeout   the deadline
     * @return true when the condition was met
     */
    public boolean awaitOutput(Predicate<String> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.test(output())) {
                return true;
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                return condition.test(output());
            }
            Waits.pause(Duration.ofMillis(100));
        }
    }

    /**
     * Stops the process: SIGTERM to it and its descendants, SIGKILL after {@code grace}.
     *
     * @param grace how long SIGTERM may take
     */
    public void stop(Duration grace) {
        if (process.isAlive() || process.toHandle().descendants().findAny().isPresent()) {
            Proc.terminate(process.toHandle(), grace);
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ", " + (isAlive() ? "running" : "exited") + ") " + argv;
    }
}
