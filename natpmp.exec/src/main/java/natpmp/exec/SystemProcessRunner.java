// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs commands as child processes: argv only (no shell), stdin written and closed, stdout and stderr
 * collected concurrently so a chatty child never blocks, killed after its timeout.
 */
public final class SystemProcessRunner implements ProcessRunner {
    private final String searchPath;

    /** Uses the search path of this process ({@code PATH}, or the usual system folders). */
    public SystemProcessRunner() {
        this(defaultPath());
    }

    /**
     * @param searchPath colon-separated folders to find programs in
     */
    public SystemProcessRunner(String searchPath) {
        this.searchPath = searchPath;
    }

    private static String defaultPath() {
        String path = System.getenv("PATH");
        String system = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        return path == null || path.isBlank() ? system : path + ":" + system;
    }

    @Override
    public CommandResult run(Command command) throws CommandException {
        ProcessBuilder builder = new ProcessBuilder(command.argv());
        builder.environment().put("PATH", searchPath);
        builder.environment().put("LC_ALL", "C");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new CommandException("cannot run " + command.argv().get(0) + ": " + e.getMessage(), command, false,
                    "", e);
        }
        CompletableFuture<byte[]> out = drain(process.getInputStream());
        CompletableFuture<byte[]> err = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            in.write(command.stdin().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the child may exit before reading all of its input; its exit status tells what happened
        }
        try {
            if (!process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(1, TimeUnit.SECONDS);
                throw new CommandException(command.argv().get(0) + " timed out after " + command.timeout().toMillis()
                        + " ms", command, true, text(err, 100), null);
            }
            return new CommandResult(process.exitValue(), text(out, 1000), text(err, 1000));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandException("interrupted while running " + command.argv().get(0), command, false, "", e);
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream stream) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (InputStream s = stream) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                s.transferTo(buffer);
                result.complete(buffer.toByteArray());
            } catch (IOException e) {
                result.complete(new byte[0]);
            }
        }, "natpmp-exec-drain");
        reader.setDaemon(true);
        reader.start();
        return result;
    }

    private static String text(CompletableFuture<byte[]> bytes, long waitMillis) {
        try {
            return new String(bytes.get(waitMillis, TimeUnit.MILLISECONDS), StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } catch (ExecutionException | TimeoutException e) {
            return "";
        }
    }

    @Override
    public boolean isExecutable(String program) {
        if (program.indexOf('/') >= 0) {
            return Files.isExecutable(Path.of(program));
        }
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
