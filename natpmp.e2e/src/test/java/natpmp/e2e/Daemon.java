// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The real daemon, started the way users start it: {@code <home>/natpmpd ... --state S --load L --http A:P},
 * optionally inside a namespace ({@code ip netns exec} execs; the launcher execs java; so the tracked PID is the
 * JVM, which is what SIGTERM and SIGKILL must reach). State and load folders persist across restarts of one
 * {@code Daemon}, like a real installation. Output of each run goes to its own log file in the lab's work dir.
 */
public final class Daemon {

    /** JVM options that make the JVM start faster on a small, busy machine (NATPMPD_JAVA_OPTS). */
    public static final String FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m";

    /**
     * Asks the launcher not to rebuild a stale natpmpd.jar (a test must run what was built, never start a Maven
     * build of other modules); ignored by launchers that do not know it.
     */
    public static final String NO_BUILD = "NATPMPD_NO_BUILD";

    private final NamespaceLab lab;
    private final String ns;
    private final Path state;
    private final Path load;
    private final String http;
    private final List<String> options;
    private final List<Background> runs = new ArrayList<>();
    private List<String> wrapper = List.of();

    /**
     * @param lab     the lab (tracks the process, provides the work dir)
     * @param ns      namespace to run in, or null for the host namespace
     * @param name    sub-directory of the work dir for state and load
     * @param http    the {@code --http} value, e.g. {@code 127.0.0.1:18080}
     * @param options daemon options before {@code --state} (e.g. {@code -i wan0 -a 192.168.50.1})
     */
    public Daemon(NamespaceLab lab, String ns, String name, String http, List<String> options) {
        this.lab = lab;
        this.ns = ns;
        this.state = lab.workDir().resolve(name).resolve("state");
        this.load = lab.workDir().resolve(name).resolve("load");
        this.http = http;
        this.options = List.copyOf(options);
        try {
            Files.createDirectories(state);
            Files.createDirectories(load);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** @return the {@code --state} folder */
    public Path state() {
        return state;
    }

    /** @return the {@code --load} folder (FileInstall) */
    public Path load() {
        return load;
    }

    /**
     * Runs the next starts through a wrapper command that finally execs its trailing arguments (used for the
     * failing-iptables stub); an empty list removes the wrapper.
     *
     * @param argvPrefix the wrapper command and its own arguments
     */
    public void wrapWith(List<String> argvPrefix) {
        this.wrapper = List.copyOf(argvPrefix);
    }

    /**
     * Writes a FileInstall configuration file ({@code <load>/<pid>.cfg}).
     *
     * @param pid   ConfigAdmin PID
     * @param lines {@code key=value} lines
     */
    public void writeConfig(String pid, String... lines) {
        try {
            Files.writeString(load.resolve(pid + ".cfg"), String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** @return the command line of the next start */
    public List<String> argv() {
        List<String> argv = new ArrayList<>(wrapper);
        argv.add(Requirements.launcher().toString());
        argv.addAll(options);
        argv.addAll(List.of("--state", state.toString(), "--load", load.toString(), "--http", http));
        return argv;
    }

    /**
     * Starts a new run (a previous one must have ended).
     *
     * @return the process
     */
    public Background start() {
        if (current() != null && current().isAlive()) {
            throw new IllegalStateException("daemon already running: " + current());
        }
        String javaOpts = System.getProperty("natpmp.e2e.javaOpts", FAST_JVM);
        Background run = lab.start(ns, "natpmpd", Map.of("NATPMPD_JAVA_OPTS", javaOpts, NO_BUILD, "1"), argv());
        runs.add(run);
        return run;
    }

    /** @return the latest run, or null before the first start */
    public Background current() {
        return runs.isEmpty() ? null : runs.get(runs.size() - 1);
    }

    /** @return output of the latest run */
    public String output() {
        Background run = current();
        return run == null ? "" : run.output();
    }

    /**
     * Polls {@code probe} until it succeeds; fails (with the daemon's output) when the daemon exits or
     * {@code timeout} passes.
     *
     * @param timeout deadline
     * @param probe   readiness check, e.g. "natpmpc gets an answer"
     */
    public void awaitReady(Duration timeout, BooleanSupplier probe) {
        Background run = current();
        boolean ready = Waits.until(timeout, Duration.ofMillis(300), () -> !run.isAlive() || probe.getAsBoolean());
        if (!run.isAlive()) {
            throw new AssertionError("natpmpd exited with " + run.process().exitValue() + " before it was ready: "
                    + run.argv() + "\n" + tail(run.output(), 120));
        }
        if (!ready) {
            throw new AssertionError("natpmpd not ready after " + timeout + ": " + run.argv() + "\n"
                    + tail(run.output(), 120));
        }
    }

    /**
     * How a stop ended.
     *
     * @param exitCode  exit status, -1 when it did not exit in time (then it was killed)
     * @param elapsed   time from the signal to the exit
     * @param leftovers descendants that were still alive afterwards (killed by us)
     */
    public record Stop(int exitCode, Duration elapsed, List<String> leftovers) {
    }

    /**
     * SIGTERM to the PID (the JVM), then waits up to {@code limit}; kills it and any leftover descendants after.
     *
     * @param limit how long the daemon may take
     * @return exit status and time taken
     */
    public Stop stop(Duration limit) {
        Background run = current();
        List<ProcessHandle> family = run.process().toHandle().descendants().toList();
        long start = System.nanoTime();
        run.process().destroy();
        boolean exited;
        try {
            exited = run.process().waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exited = false;
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        List<String> leftovers = new ArrayList<>();
        for (ProcessHandle p : family) {
            if (p.isAlive()) {
                leftovers.add(p.pid() + " " + p.info().commandLine().orElse("?"));
            }
        }
        if (!exited || !leftovers.isEmpty()) {
            run.stop(Duration.ofSeconds(1));
            family.forEach(ProcessHandle::destroyForcibly);
        }
        return new Stop(exited ? run.process().exitValue() : -1, elapsed, leftovers);
    }

    /**
     * SIGKILL to the PID (the JVM) and every descendant, the way a crash or the OOM killer ends it.
     *
     * @return the exit status reported for the killed process (137 expected)
     */
    public int kill9() {
        Background run = current();
        List<ProcessHandle> family = run.process().toHandle().descendants().toList();
        run.process().destroyForcibly();
        family.forEach(ProcessHandle::destroyForcibly);
        try {
            return run.process().waitFor(10, TimeUnit.SECONDS) ? run.process().exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** @return the program name of the tracked PID ({@code /proc/PID/comm}); "java" when the launcher exec'd */
    public String command() {
        Background run = current();
        try {
            return Files.readString(Path.of("/proc", Long.toString(run.pid()), "comm")).trim();
        } catch (IOException e) {
            return "<gone>";
        }
    }

    /** @return the last lines of every run's output, for failure reports */
    public String diagnostics() {
        StringBuilder text = new StringBuilder();
        for (Background run : runs) {
            text.append("=== ").append(run).append(" log ").append(run.log()).append('\n')
                    .append(tail(run.output(), 150)).append('\n');
        }
        return text.toString();
    }

    /**
     * @param text  some output
     * @param lines how many lines to keep
     * @return the last {@code lines} lines of {@code text}
     */
    public static String tail(String text, int lines) {
        String[] all = text.split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return (from > 0 ? "[... " + from + " lines cut ...]\n" : "")
                + String.join("\n", java.util.Arrays.asList(all).subList(from, all.length));
    }
}
