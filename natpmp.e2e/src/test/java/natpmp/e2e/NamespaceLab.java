// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A throw-away network made of namespaces and veth pairs, with unique names so several runs (and other
 * people's labs) can coexist. Every process it starts is tracked by PID; {@link #close()} kills them and deletes
 * the namespaces, also when a test failed (and, as a last resort, from a JVM shutdown hook).
 *
 * <pre>
 *  [lan]  eth0 192.168.50.10 + .11 ──── lan0 192.168.50.1  ┐
 *  [lan2] eth0 192.168.60.10 ──────── lan1 192.168.60.1  ├ [gw] ip_forward=1
 *  [wan]  eth0 203.0.113.2 ─────────── wan0 203.0.113.1  ┘
 * </pre>
 *
 * LAN hosts route by default via the gateway; the WAN peer has only its connected /24 (no route to the LANs),
 * as on the Internet. The gateway carries a minimal home-router firewall ({@link #installBaseFirewall()}):
 * FORWARD policy DROP, established traffic and everything from the LANs accepted, MASQUERADE out of wan0. So
 * inbound traffic passes only where the daemon's rules let it.
 */
public final class NamespaceLab implements AutoCloseable {

    /** Gateway address on the first LAN (daemon listens here). */
    public static final String LAN_GW = "192.168.50.1";
    /** First LAN host. */
    public static final String LAN_HOST = "192.168.50.10";
    /** Second address of the first LAN namespace, acting as another LAN host (hairpin client). */
    public static final String LAN_HOST_2 = "192.168.50.11";
    /** Gateway address on the second LAN. */
    public static final String LAN2_GW = "192.168.60.1";
    /** Host on the second LAN. */
    public static final String LAN2_HOST = "192.168.60.10";
    /** Gateway's external (WAN) address. */
    public static final String WAN_GW = "203.0.113.1";
    /** The Internet peer. */
    public static final String WAN_PEER = "203.0.113.2";

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

    private final String prefix;
    private final Path workDir;
    private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
    private final List<Background> background = Collections.synchronizedList(new ArrayList<>());
    private final Thread shutdownHook;
    private volatile boolean operatorAcceptsDnat;
    private boolean closed;

    private NamespaceLab(String label) {
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        this.prefix = "npe" + HexFormat.of().formatHex(random);
        Path base = Path.of(System.getProperty("natpmp.e2e.workdir", "target/e2e")).toAbsolutePath();
        this.workDir = base.resolve(label + "-" + prefix);
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.shutdownHook = new Thread(this::closeQuietly, "e2e-lab-cleanup-" + prefix);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        System.err.println("[e2e] lab " + prefix + " work dir " + workDir);
    }

    /**
     * A lab without namespaces yet: add them with {@link #addNamespace(String)}.
     *
     * @param label names the work directory (e.g. the test class)
     * @return the empty lab
     */
    public static NamespaceLab empty(String label) {
        return new NamespaceLab(label);
    }

    /**
     * Builds the gateway topology drawn in the class comment.
     *
     * @param label names the work directory (e.g. the test class)
     * @return the lab, ready for traffic
     */
    public static NamespaceLab gatewayTopology(String label) {
        NamespaceLab lab = new NamespaceLab(label);
        try {
            lab.build();
            return lab;
        } catch (RuntimeException | Error e) {
            lab.close();
            throw e;
        }
    }

    private void build() {
        String lan = addNamespace("lan");
        String gw = addNamespace("gw");
        String wan = addNamespace("wan");
        String lan2 = addNamespace("lan2");
        ip("-n", gw, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", lan);
        ip("-n", gw, "link", "add", "lan1", "type", "veth", "peer", "name", "eth0", "netns", lan2);
        ip("-n", gw, "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", wan);
        address(gw, "lan0", LAN_GW + "/24");
        address(gw, "lan1", LAN2_GW + "/24");
        address(gw, "wan0", WAN_GW + "/24");
        address(lan, "eth0", LAN_HOST + "/24");
        address(lan, "eth0", LAN_HOST_2 + "/24");
        address(lan2, "eth0", LAN2_HOST + "/24");
        address(wan, "eth0", WAN_PEER + "/24");
        for (String[] link : new String[][] {{gw, "lan0"}, {gw, "lan1"}, {gw, "wan0"}, {lan, "eth0"}, {lan2, "eth0"},
                {wan, "eth0"}}) {
            ip("-n", link[0], "link", "set", link[1], "up");
        }
        ip("-n", lan, "route", "add", "default", "via", LAN_GW);
        ip("-n", lan2, "route", "add", "default", "via", LAN2_GW);
        sysctl(gw, "net.ipv4.ip_forward=1");
        // hairpin (N28) with both LAN hosts in one namespace: the DNATed packet comes back from the gateway with
        // a source that is local here, which Linux drops as martian unless accept_local is set
        for (String key : List.of("all", "default", "eth0")) {
            sysctl(lan, "net.ipv4.conf." + key + ".accept_local=1");
            sysctl(lan, "net.ipv4.conf." + key + ".rp_filter=0");
        }
        installBaseFirewall();
    }

    /**
     * (Re)installs the gateway's own firewall, as a "firewall reload" of a home router would after flushing:
     * FORWARD policy DROP, accept established and LAN-originated traffic, masquerade out of wan0.
     */
    public void installBaseFirewall() {
        String gw = gw();
        iptables(gw, "-P", "FORWARD", "DROP");
        iptables(gw, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
        if (operatorAcceptsDnat) {
            iptables(gw, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT");
        }
        iptables(gw, "-A", "FORWARD", "-i", "lan0", "-j", "ACCEPT");
        iptables(gw, "-A", "FORWARD", "-i", "lan1", "-j", "ACCEPT");
        iptables(gw, "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE");
    }

    /**
     * The operator step the README asks for with the nftables backend: an {@code accept} in table
     * {@code ip natpmp} cannot override the DROP policy of this firewall's FORWARD chain (nftables evaluates every
     * base chain on a hook), so the router's own FORWARD chain accepts DNATed flows
     * ({@code -m conntrack --ctstate DNAT -j ACCEPT}). Added now and by every later
     * {@link #installBaseFirewall()}. Labs that test the iptables backend must not call this: its own FORWARD
     * rules are what lets mapped traffic through there.
     */
    public void acceptDnatInForward() {
        operatorAcceptsDnat = true;
        iptables(gw(), "-A", "FORWARD", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT");
    }

    /**
     * Creates a namespace {@code <prefix>-<role>} with loopback up.
     *
     * @param role suffix such as {@code gw}
     * @return the namespace name
     */
    public String addNamespace(String role) {
        String name = ns(role);
        ip("netns", "add", name);
        namespaces.add(name);
        ip("-n", name, "link", "set", "lo", "up");
        return name;
    }

    /**
     * @param role suffix such as {@code gw}
     * @return the namespace name for that role in this lab
     */
    public String ns(String role) {
        return prefix + "-" + role;
    }

    /** @return the LAN host namespace (192.168.50.10 and .11) */
    public String lan() {
        return ns("lan");
    }

    /** @return the gateway namespace */
    public String gw() {
        return ns("gw");
    }

    /** @return the WAN peer namespace */
    public String wan() {
        return ns("wan");
    }

    /** @return the second LAN's host namespace */
    public String lan2() {
        return ns("lan2");
    }

    /** @return the unique name prefix of this lab */
    public String prefix() {
        return prefix;
    }

    /** @return a directory for this lab's files (state, logs); kept after the run for inspection */
    public Path workDir() {
        return workDir;
    }

    /**
     * Runs a command inside a namespace.
     *
     * @param ns      namespace name
     * @param timeout kill the command after this long
     * @param argv    the command
     * @return the result (never throws on a non-zero exit)
     */
    public ExecResult exec(String ns, Duration timeout, String... argv) {
        return exec(ns, new byte[0], timeout, argv);
    }

    /**
     * Runs a command inside a namespace with bytes on its standard input.
     *
     * @param ns      namespace name
     * @param stdin   input bytes
     * @param timeout kill the command after this long
     * @param argv    the command
     * @return the result (never throws on a non-zero exit)
     */
    public ExecResult exec(String ns, byte[] stdin, Duration timeout, String... argv) {
        return Proc.run(inNamespace(ns, List.of(argv)), stdin, timeout, Map.of());
    }

    /**
     * Runs a command inside a namespace and asserts that it succeeded.
     *
     * @param ns   namespace name
     * @param argv the command
     * @return the result
     */
    public ExecResult execOk(String ns, String... argv) {
        ExecResult result = exec(ns, COMMAND_TIMEOUT, argv);
        assertThat(result.ok()).as(result::describe).isTrue();
        return result;
    }

    /**
     * Starts a tracked background process inside a namespace; its output goes to {@code <work>/<name>.log}.
     *
     * @param ns   namespace name, or null for the host namespace
     * @param name label and log file name
     * @param env  extra environment variables
     * @param argv the command ({@code ip netns exec} execs it, so the tracked PID is the command itself)
     * @return the running process
     */
    public Background start(String ns, String name, Map<String, String> env, List<String> argv) {
        List<String> full = ns == null ? List.copyOf(argv) : inNamespace(ns, argv);
        Path log = uniqueLog(name);
        ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(env);
        try {
            Background process = new Background(name, full, builder.start(), log);
            background.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + full, e);
        }
    }

    /** Shorthand for {@link #start(String, String, Map, List)} without extra environment. */
    public Background start(String ns, String name, String... argv) {
        return start(ns, name, Map.of(), List.of(argv));
    }

    private Path uniqueLog(String name) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        Path log = workDir.resolve(safe + ".log");
        for (int i = 2; Files.exists(log); i++) {
            log = workDir.resolve(safe + "-" + i + ".log");
        }
        return log;
    }

    /**
     * @return the gateway's current ruleset ({@code iptables-save}), for assertions and failure reports
     */
    public String gatewayRules() {
        return exec(gw(), COMMAND_TIMEOUT, "iptables-save").output();
    }

    private static List<String> inNamespace(String ns, List<String> argv) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(argv);
        return full;
    }

    private void ip(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        ExecResult result = Proc.run(argv, new byte[0], COMMAND_TIMEOUT, Map.of());
        if (!result.ok()) {
            throw new IllegalStateException("lab setup failed: " + result.describe());
        }
    }

    private void address(String ns, String dev, String cidr) {
        ip("-n", ns, "addr", "add", cidr, "dev", dev);
    }

    private void sysctl(String ns, String setting) {
        ExecResult result = exec(ns, COMMAND_TIMEOUT, "sysctl", "-q", "-w", setting);
        if (!result.ok()) {
            throw new IllegalStateException("lab setup failed: " + result.describe());
        }
    }

    private void iptables(String ns, String... args) {
        List<String> argv = new ArrayList<>(List.of("iptables", "-w", "5"));
        argv.addAll(List.of(args));
        ExecResult result = exec(ns, COMMAND_TIMEOUT, argv.toArray(String[]::new));
        if (!result.ok()) {
            throw new IllegalStateException("lab firewall failed: " + result.describe());
        }
    }

    /**
     * Stops every tracked process (SIGTERM, then SIGKILL, by PID, with descendants), kills whatever still lives
     * inside this lab's namespaces (only processes this lab's tests started can be there), deletes the namespaces.
     * Safe to call twice.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down: we are running inside the hook
        }
        List<Background> processes;
        synchronized (background) {
            processes = new ArrayList<>(background);
        }
        Collections.reverse(processes);
        for (Background process : processes) {
            process.stop(Duration.ofSeconds(3));
        }
        List<String> names;
        synchronized (namespaces) {
            names = new ArrayList<>(namespaces);
        }
        for (String ns : names) {
            killLeftovers(ns);
            ExecResult del = Proc.run(COMMAND_TIMEOUT, "ip", "netns", "del", ns);
            if (!del.ok()) {
                System.err.println("[e2e] WARNING: could not delete namespace " + ns + ": " + del.describe());
            }
        }
    }

    private static void killLeftovers(String ns) {
        ExecResult pids = Proc.run(COMMAND_TIMEOUT, "ip", "netns", "pids", ns);
        for (String line : pids.stdout().split("\\s+")) {
            if (line.isBlank()) {
                continue;
            }
            long pid = Long.parseLong(line.trim());
            ProcessHandle.of(pid).ifPresent(p -> {
                System.err.println("[e2e] WARNING: process " + pid + " " + p.info().commandLine().orElse("?")
                        + " still runs in lab namespace " + ns + "; killing it");
                p.destroyForcibly();
                try {
                    p.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    System.err.println("[e2e] WARNING: process " + pid + " did not exit: " + e);
                }
            });
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println("[e2e] cleanup of lab " + prefix + " failed: " + e);
        }
    }
}
