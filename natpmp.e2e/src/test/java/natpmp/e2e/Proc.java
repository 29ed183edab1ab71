// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one command as an argv list (never through a shell), with a timeout, and captures its output.
 * A command that outlives its timeout is terminated (SIGTERM, then SIGKILL) together with its descendants,
 * all addressed by PID.
 */
public final class Proc {

    private Proc() {
    }

    /**
     * Runs {@code argv} to completion or until {@code timeout}.
     *
     * @param argv    program and arguments
     * @param stdin   bytes written to the command's standard input (then closed); may be empty
     * @param timeout how long to wait before killing the command
     * @param env     extra environment variables (added to the inherited environment)
     * @return what the command printed and how it ended
     */
    public static ExecResult run(List<String> argv, byte[] stdin, Duration timeout, Map<String, String> env) {
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new ExecResult(argv, 127, "", "cannot start: " + e.getMessage(), false);
        }
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin);
        } catch (IOException e) {
            // the command did not read its input (e.g. exited early): its exit status tells the story
        }
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            terminate(process.toHandle(), Duration.ofSeconds(2));
        }
        int code = finished ? process.exitValue() : -1;
        return new ExecResult(argv, code, collect(out), collect(err), !finished);
    }

    /** Shorthand for {@link #run(List, byte[], Duration, Map)} without input and extra environment. */
    public static ExecResult run(Duration timeout, String... argv) {
        return run(List.of(argv), new byte[0], timeout, Map.of());
    }

    /**
     * Terminates a process we started and every descendant of it: SIGTERM first, SIGKILL after {@code grace}.
     * Descendants are collected before the parent dies (afterwards they would be re-parented and lost).
     *
     * @param handle the process we started
     * @param grace  how long to wait for SIGTERM to work
     */
    public static void terminate(ProcessHandle handle, Duration grace) {
        List<ProcessHandle> family = new java.util.ArrayList<>(handle.descendants().toList());
        family.add(0, handle);
        family.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle p : family) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                p.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        for (ProcessHandle p : family) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                System.err.println("[e2e] WARNING: process " + p.pid() + " survived SIGKILL for 5 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        // one thread per stream: the common pool may have a single worker on a small machine, and draining
        // stdout and stderr one after the other can deadlock on a full pipe
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (stream) {
                result.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
            }
        }, "e2e-drain");
        reader.setDaemon(true);
        reader.start();
        return result;
    }

    private static String collect(CompletableFuture<String> future) {
        try {
            return future.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "<interrupted>";
        } catch (ExecutionException | TimeoutException e) {
            // a grandchild may still hold the pipe open; report what we know instead of hanging
            return "<output unavailable: " + e + ">";
        }
    }
}
