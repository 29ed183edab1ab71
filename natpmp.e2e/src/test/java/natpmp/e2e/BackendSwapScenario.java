// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.LAN_GW;
import static natpmp.e2e.NamespaceLab.WAN_GW;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import natpmp.e2e.tools.NatPmpLoadClient;

/**
 * Backend swaps under load, shared by {@link BackendSwapEndToEndTest} (1,000 mappings, every check asserted) and
 * {@link BackendSwapBenchmark} (10,000 mappings, swap times printed): a lab whose base firewall has the nftables
 * operator step, the daemon with both seeded backends, and {@link NatPmpLoadClient} in the LAN namespace that fills
 * the mappings and then keeps renewing and creating them at a steady rate while the test swaps the backend.
 *
 * <p>The "time to swap" is read from the daemon's log: from "firewall backend X replaces Y" to the next
 * "firewall backend X holds all N mappings" (both lines carry millisecond timestamps).
 */
final class BackendSwapScenario implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration SWAP_TIMEOUT = Duration.ofSeconds(60);
    private static final int FIRST_INTERNAL = 10000;
    private static final Pattern STAMP = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) ");
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    /**
     * What one swap took.
     *
     * @param how       what triggered it
     * @param from      the backend swapped away from
     * @param to        the new backend
     * @param started   log time of "X replaces Y"
     * @param reconciled log time of the new backend's own "reconciled to N forwards" (null when not logged)
     * @param holds     log time of "X holds all N mappings" (the old backend is released by then)
     * @param mappings  N
     * @param strays    what {@code from} still had in the kernel once the swap was over (empty: clean)
     */
    record Swap(String how, BackendKind from, BackendKind to, LocalDateTime started, LocalDateTime reconciled,
            LocalDateTime holds, int mappings, List<String> strays) {

        /** @return the time to swap: "replaces" to "holds all" */
        long millis() {
            return Duration.between(started, holds).toMillis();
        }

        @Override
        public String toString() {
            String split = reconciled == null ? ""
                    : String.format(" (new backend reconciled after %d ms, then the old one released)",
                            Duration.between(started, reconciled).toMillis());
            return String.format("%s -> %s by %s: %d ms for %d mappings%s [%s .. %s]", from.id(), to.id(), how,
                    millis(), mappings, split, started.toLocalTime(), holds.toLocalTime());
        }
    }

    /**
     * The load client's final report.
     *
     * @param summary its SUMMARY line
     * @param problems its ERROR and RETRANSMIT lines
     * @param errors  number of errors
     * @param retransmits number of retransmissions
     * @param mappings every live mapping, {@code proto internal external}
     */
    record ClientReport(String summary, List<String> problems, int errors, int retransmits, List<String> mappings) {
    }

    final NamespaceLab lab;
    final Daemon daemon;
    private final Natpmpc natpmpc;
    private final Traffic traffic;
    private Background client;
    private final List<Swap> swaps = new ArrayList<>();

    BackendSwapScenario(String label, Diagnostics diagnostics) {
        Requirements.requireNamespaceLab();
        lab = NamespaceLab.gatewayTopology(label);
        try {
            // nftables holds the mappings for part of the run: the operator step its README section asks for
            BackendKind.NFTABLES.prepareLab(lab);
            natpmpc = new Natpmpc(lab);
            traffic = new Traffic(lab);
            daemon = new Daemon(lab, lab.gw(), "daemon", "127.0.0.1:18080",
                    List.of("-v", "-i", "wan0", "-a", LAN_GW, "-t", "3600"));
            // one client makes every request here: lift the per-client quota and rate limit (N-limits are
            // tested elsewhere)
            daemon.writeConfig("natpmp.service", BackendKind.IPTABLES.targetLine(), "quota.per.client=60000",
                    "limit.global=65536", "rate.per.client=5000", "rate.burst=10000");
            diagnostics.add("natpmpd output", daemon::diagnostics);
            diagnostics.add("load client", () -> client == null ? "" : Daemon.tail(client.output(), 80));
            diagnostics.add("gateway iptables-save (NATPMP lines)",
                    () -> String.join("\n", BackendKind.IPTABLES.strayRules(lab)));
            diagnostics.add("gateway table ip natpmp (first lines)",
                    () -> String.join("\n", BackendKind.NFTABLES.strayRules(lab)));
        } catch (RuntimeException | Error e) {
            lab.close();
            throw e;
        }
    }

    void startDaemon() {
        daemon.start();
        daemon.awaitReady(READY_TIMEOUT, () -> daemon.output().contains("firewall backend iptables holds all")
                && WAN_GW.equals(natpmpc.externalAddress(lab.lan(), LAN_GW, Duration.ofSeconds(2)).parsed()
                        .publicAddress().orElse(null)));
        assertThat(Files.exists(daemon.load().resolve(BackendKind.NFTABLES.bundleFile())))
                .as("the launcher seeded both backends into %s", daemon.load()).isTrue();
    }

    /**
     * Starts the load client and waits until it created {@code count} mappings.
     *
     * @param count mappings to fill
     * @param rate  requests per second after the fill
     * @return the FILLED line
     */
    String fill(int count, int rate) {
        Path classes;
        try {
            classes = Path.of(NatPmpLoadClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        client = lab.start(lab.lan(), "load-client", java, "-XX:+UseSerialGC", "-Xmx256m", "-cp", classes.toString(),
                NatPmpLoadClient.class.getName(), LAN_GW, Integer.toString(count), Integer.toString(FIRST_INTERNAL),
                Integer.toString(rate), stopFile().toString(), resultFile().toString());
        boolean filled = client.awaitOutput(out -> out.contains("FILLED") || out.contains("DONE"),
                Duration.ofSeconds(30 + count / 20));
        String out = client.output();
        assertThat(filled).as("load client filled %d mappings:\n%s", count, Daemon.tail(out, 40)).isTrue();
        String line = out.lines().filter(l -> l.startsWith("FILLED")).findFirst().orElseThrow();
        assertThat(line).as("fill result").startsWith("FILLED " + count + " errors=0 ");
        if (rate > 0) {
            assertThat(client.awaitOutput(o -> o.contains("LOAD started"), Duration.ofSeconds(10))).isTrue();
        }
        return line;
    }

    private Path stopFile() {
        return lab.workDir().resolve("load-client.stop");
    }

    private Path resultFile() {
        return lab.workDir().resolve("load-client.mappings");
    }

    /**
     * Waits until the kernel holds at least {@code count} forwards through {@code backend}.
     *
     * @param backend the backend in use
     * @param count   how many at least
     */
    void awaitInstalled(BackendKind backend, int count) {
        boolean all = Waits.until(Duration.ofSeconds(30), Duration.ofMillis(500),
                () -> backend.installedForwards(lab) >= count);
        assertThat(all).as("%s holds %d forwards (has %d)", backend.id(), count, backend.installedForwards(lab))
                .isTrue();
    }

    /**
     * Selects {@code to} by editing {@code backend.target} in the service configuration, waits for the swap and for
     * {@code from} to be clean.
     *
     * @param from the backend in use
     * @param to   the backend to select
     * @return the swap
     */
    Swap swapByTarget(BackendKind from, BackendKind to) {
        int mark = daemon.output().length();
        editServiceConfig(to.targetLine());
        return awaitSwap("backend.target", from, to, mark);
    }

    /**
     * Removes {@code backend.target} (the highest ranking backend, iptables, stays bound), then deletes
     * {@code natpmp.iptables.jar} from the load folder: FileInstall uninstalls it and the service must fall back
     * to nftables.
     *
     * @return the swap
     */
    Swap swapByHotUndeploy() {
        int mark = daemon.output().length();
        editServiceConfig(null);
        // the target must be gone before iptables is, or the service would be left without a backend
        boolean applied = Waits.until(Duration.ofSeconds(20), Duration.ofMillis(200),
                () -> daemon.output().substring(mark).contains("configuration applied in place"));
        assertThat(applied).as("natpmp.service.cfg without backend.target applied").isTrue();
        assertThat(daemon.output().substring(mark)).as("no swap while iptables still ranks highest")
                .doesNotContain("replaces");
        assertThat(Files.exists(daemon.load().resolve(BackendKind.NFTABLES.bundleFile()))).isTrue();
        int undeploy = daemon.output().length();
        try {
            Files.delete(daemon.load().resolve(BackendKind.IPTABLES.bundleFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return awaitSwap("hot undeploy of natpmp.iptables.jar", BackendKind.IPTABLES, BackendKind.NFTABLES, undeploy);
    }

    private Swap awaitSwap(String how, BackendKind from, BackendKind to, int mark) {
        String replaces = "firewall backend " + to.id() + " replaces " + from.id();
        Pattern holds = Pattern.compile("firewall backend " + to.id() + " holds all (\\d+) mappings");
        boolean done = Waits.until(SWAP_TIMEOUT, Duration.ofMillis(200), () -> {
            String log = daemon.output().substring(mark);
            int at = log.indexOf(replaces);
            return at >= 0 && holds.matcher(log.substring(at)).find();
        });
        String log = daemon.output().substring(mark);
        assertThat(done).as("swap %s -> %s (%s) in the log:\n%s", from.id(), to.id(), how, Daemon.tail(log, 40))
                .isTrue();
        String start = log.lines().filter(l -> l.contains(replaces)).findFirst().orElseThrow();
        String rest = log.substring(log.indexOf(replaces));
        String end = rest.lines().filter(l -> holds.matcher(l).find()).findFirst().orElseThrow();
        Matcher count = holds.matcher(end);
        count.find();
        String reconciledLine = "owner natpmp reconciled to";
        LocalDateTime reconciled = rest.lines().takeWhile(l -> !holds.matcher(l).find())
                .filter(l -> l.contains(to.id() + ": " + reconciledLine)).findFirst().map(BackendSwapScenario::time)
                .orElse(null);
        // the old backend is released on the swap thread shortly after "holds all"; whatever is left after 5 s stays
        Waits.until(Duration.ofSeconds(5), Duration.ofMillis(250), () -> from.strayRules(lab).isEmpty());
        Swap swap = new Swap(how, from, to, time(start), reconciled, time(end), Integer.parseInt(count.group(1)),
                from.strayRules(lab));
        swaps.add(swap);
        System.err.println("[e2e] time to swap " + swap);
        return swap;
    }

    private static LocalDateTime time(String logLine) {
        Matcher m = STAMP.matcher(logLine);
        if (!m.find()) {
            throw new AssertionError("log line without a timestamp: " + logLine);
        }
        return LocalDateTime.parse(m.group(1), LOG_TIME);
    }

    /** Rewrites natpmp.service.cfg atomically (FileInstall must never read half a file) with a new target line. */
    private void editServiceConfig(String targetLine) {
        Path file = daemon.load().resolve("natpmp.service.cfg");
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(file).stream()
                    .filter(l -> !l.strip().startsWith("backend.target")).toList());
            if (targetLine != null) {
                lines.add(targetLine);
            }
            Path tmp = lab.workDir().resolve("natpmp.service.cfg.tmp");
            Files.writeString(tmp, String.join("\n", lines) + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops the load client and collects its report.
     *
     * @return the report
     */
    ClientReport stopClient() {
        try {
            Files.writeString(stopFile(), "stop\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(client.awaitOutput(out -> out.contains("DONE"), Duration.ofSeconds(30)))
                .as("load client finished:\n%s", Daemon.tail(client.output(), 40)).isTrue();
        String out = client.output();
        String summary = out.lines().filter(l -> l.startsWith("SUMMARY")).findFirst().orElseThrow();
        List<String> problems = out.lines().filter(l -> l.startsWith("ERROR") || l.startsWith("RETRANSMIT"))
                .toList();
        try {
            return new ClientReport(summary, problems, field(summary, "errors"), field(summary, "retransmits"),
                    Files.readAllLines(resultFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int field(String summary, String name) {
        Matcher m = Pattern.compile("\\b" + name + "=(\\d+)").matcher(summary);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in " + summary);
        }
        return Integer.parseInt(m.group(1));
    }

    /**
     * Sends traffic from the WAN peer through {@code sample} randomly chosen mappings (half UDP, half TCP).
     *
     * @param mappings {@code proto internal external} lines
     * @param sample   how many to try
     * @return the mappings that did not pass
     */
    List<String> failingSample(List<String> mappings, int sample) {
        List<String> shuffled = new ArrayList<>(mappings);
        Collections.shuffle(shuffled, new Random(mappings.size()));
        List<String> chosen = new ArrayList<>();
        for (String proto : List.of("udp", "tcp")) {
            shuffled.stream().filter(l -> l.startsWith(proto + " ")).limit(sample / 2).forEach(chosen::add);
        }
        List<String> failed = new ArrayList<>();
        for (String mapping : chosen) {
            String[] f = mapping.split(" ");
            Traffic.Listener listener = traffic.listen(lab.lan(), f[0], Integer.parseInt(f[1]));
            try {
                if (!traffic.passes(lab.wan(), WAN_GW, Integer.parseInt(f[2]), listener, Duration.ofSeconds(5))) {
                    failed.add(mapping);
                }
            } finally {
                listener.stop();
            }
        }
        return failed;
    }

    /** @return every swap so far */
    List<Swap> swaps() {
        return List.copyOf(swaps);
    }

    @Override
    public void close() {
        try {
            if (client != null && client.isAlive()) {
                client.stop(Duration.ofSeconds(3));
            }
            if (daemon.current() != null && daemon.current().isAlive()) {
                daemon.stop(Duration.ofSeconds(10));
            }
        } finally {
            lab.close();
        }
    }
}
