// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.exec;

import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import natpmp.exec.Command;
import natpmp.exec.CommandException;
import natpmp.exec.CommandResult;
import natpmp.exec.ProcessRunner;
import natpmp.exec.SystemProcessRunner;
import natpmp.iptables.internal.core.Variant;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh network namespace for one test ({@code ip netns add natpmp-ipt-<random>}), deleted on close, and a
 * {@link ProcessRunner} that runs every command inside it ({@code ip netns exec <ns> ...}).
 */
final class NetnsLab implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final SystemProcessRunner SYSTEM = new SystemProcessRunner();

    private final String name;

    private NetnsLab(String name) {
        this.name = name;
    }

    /**
     * Fails under {@code CI=true} and skips loudly elsewhere if this host cannot run the kernel tier.
     *
     * @param variant the iptables flavour the test needs
     */
    static void requirePrerequisites(Variant variant) {
        String flavour = variant == Variant.LEGACY ? "legacy" : "nft";
        List<String> missing = new ArrayList<>();
        for (String program : List.of("ip", "iptables-" + flavour, "iptables-" + flavour + "-restore",
                "iptables-" + flavour + "-save")) {
            if (!SYSTEM.isExecutable(program)) {
                missing.add(program);
            }
        }
        try {
            CommandResult id = SYSTEM.run(Command.of(TIMEOUT, "id", "-u"));
            if (!id.stdout().strip().equals("0")) {
                missing.add("root (uid 0)");
            }
        } catch (CommandException e) {
            missing.add("id: " + e.getMessage());
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "KERNEL TIER NOT RUN for " + variant + ": missing " + missing
                + " (apt-get install -y iptables iproute2, run as root)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message);
        }
        System.err.println("!!!!!!!! " + message);
        Assumptions.abort(message);
    }

    /** @return a new namespace */
    static NetnsLab create() throws CommandException {
        String name = "natpmp-ipt-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        check(SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "add", name)), "ip netns add " + name);
        return new NetnsLab(name);
    }

    /** @return a runner whose commands run inside this namespace */
    ProcessRunner runner() {
        return new ProcessRunner() {
            @Override
            public CommandResult run(Command command) throws CommandException {
                List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", name));
                argv.addAll(command.argv());
                return SYSTEM.run(new Command(argv, command.stdin(), command.timeout()));
            }

            @Override
            public boolean isExecutable(String program) {
                return SYSTEM.isExecutable(program);
            }
        };
    }

    /**
     * Runs a command inside the namespace, as an operator would from outside the daemon.
     *
     * @param argv the command
     * @return its standard output
     */
    String exec(String... argv) throws CommandException {
        CommandResult r = runner().run(Command.of(TIMEOUT, argv));
        check(r, String.join(" ", argv));
        return r.stdout();
    }

    /**
     * @param variant the flavour
     * @return the whole {@code iptables-save} output of that flavour
     */
    String save(Variant variant) throws CommandException {
        return exec(variant == Variant.LEGACY ? "iptables-legacy-save" : "iptables-nft-save");
    }

    /**
     * @param variant the flavour
     * @return the {@code iptables} program of that flavour
     */
    static String iptables(Variant variant) {
        return variant == Variant.LEGACY ? "iptables-legacy" : "iptables-nft";
    }

    private static void check(CommandResult r, String what) {
        if (!r.succeeded()) {
            throw new IllegalStateException(what + " exited with " + r.exitStatus() + ": " + r.stderr());
        }
    }

    @Override
    public void close() throws CommandException {
        CommandResult r = SYSTEM.run(Command.of(TIMEOUT, "ip", "netns", "del", name));
        if (!r.succeeded()) {
            System.err.println("could not delete namespace " + name + ": " + r.stderr());
        }
    }
}
