// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.exec;

import natpmp.netmap.internal.core.ConntrackEvent;
import natpmp.netmap.internal.core.ConntrackParser;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Runs {@code conntrack -E -e NEW -o timestamp} (an argv list, no shell) and hands the parsed new-connection
 * events, in batches, to a consumer: the TTL refresh source of the mapper (D6: the kernel target refreshes on
 * the first packet of each new connection, which is exactly one conntrack NEW event). The process is restarted
 * with a doubling back-off when it exits; {@link #close} destroys it.
 */
public final class ConntrackMonitor implements AutoCloseable {
    /** The default command. */
    public static final List<String> DEFAULT_COMMAND = List.of("conntrack", "-E", "-e", "NEW", "-o", "timestamp");
    private static final int MAX_BATCH = 1024;
    private static final long STABLE_MILLIS = 60_000;
    private static final Logger LOG = LoggerFactory.getLogger(ConntrackMonitor.class);

    private final List<String> command;
    private final Consumer<List<ConntrackEvent>> sink;
    private final long minBackoffMillis;
    private final long maxBackoffMillis;
    private final LongSupplier monotonicMillis;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private volatile Process process;

    /**
     * Starts the monitor thread {@code netmap-conntrack}.
     *
     * @param command          the argv
     * @param sink             receives batches of events on the monitor thread; must not block for long
     * @param minBackoffMillis first delay before a restart
     * @param maxBackoffMillis longest delay before a restart
     * @param monotonicMillis  the monotonic clock
     */
    public ConntrackMonitor(List<String> command, Consumer<List<ConntrackEvent>> sink, long minBackoffMillis,
            long maxBackoffMillis, LongSupplier monotonicMillis) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("the conntrack command must not be empty");
        }
        this.command = List.copyOf(command);
        this.sink = sink;
        this.minBackoffMillis = minBackoffMillis;
        this.maxBackoffMillis = maxBackoffMillis;
        this.monotonicMillis = monotonicMillis;
        this.thread = new Thread(this::run, "netmap-conntrack");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long backoff = minBackoffMillis;
        while (stop.getCount() > 0) {
            long started = monotonicMillis.getAsLong();
            try {
                readOnce();
            } catch (IOException e) {
                LOG.warn("netmap: conntrack monitor {} failed: {}", command, e.getMessage());
            }
            if (monotonicMillis.getAsLong() - started > STABLE_MILLIS) {
                backoff = minBackoffMillis;
            }
            try {
                if (stop.await(backoff, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            backoff = Math.min(maxBackoffMillis, backoff * 2);
        }
    }

    private void readOnce() throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        process = p;
        if (stop.getCount() == 0) {
            p.destroy();
            return;
        }
        LOG.info("netmap: conntrack monitor started: {}", command);
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            List<ConntrackEvent> batch = new ArrayList<>();
            while ((line = in.readLine()) != null) {
                accept(line, batch);
                while (batch.size() < MAX_BATCH && in.ready() && (line = in.readLine()) != null) {
                    accept(line, batch);
                }
                if (!batch.isEmpty()) {
                    sink.accept(List.copyOf(batch));
                    batch.clear();
                }
            }
        } finally {
            p.destroy();
            try {
                int status = p.waitFor();
                if (stop.getCount() > 0) {
                    LOG.warn("netmap: conntrack monitor exited with status {}; restarting", status);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void accept(String line, List<ConntrackEvent> batch) {
        Optional<ConntrackEvent> event = ConntrackParser.parse(line);
        if (event.isPresent()) {
            batch.add(event.get());
        } else if (!line.isBlank()) {
            LOG.info("netmap: conntrack: {}", line);
        }
    }

    /** Stops the process and the thread. */
    @Override
    public void close() {
        stop.countDown();
        Process p = process;
        if (p != null) {
            p.destroy();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
    }
}
