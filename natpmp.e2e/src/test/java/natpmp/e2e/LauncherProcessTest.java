// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Process-level behaviour of {@code ./natpmpd} (issue 2 item 8): option errors, the generated console password,
 * SIGTERM. The daemon runs without {@code -i/-a} in a namespace of its own (loopback only): the console part
 * needs no network, and so the daemon's firewall backend cannot touch the host's iptables. HTTP goes through
 * {@code curl} inside that namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class LauncherProcessTest {

    private static final Pattern PASSWORD = Pattern.compile("web console user 'admin' password '([^']+)'");
    private static final String CONSOLE = "http://127.0.0.1:18080/system/console/bundles";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    @RegisterExtension
    final Diagnostics diagnostics = new Diagnostics();

    private NamespaceLab lab;
    private String ns;
    private final List<Daemon> daemons = new ArrayList<>();

    @BeforeAll
    void setUp() {
        Requirements.requireNamespaceLab();
        lab = NamespaceLab.empty("LauncherProcessTest");
        ns = lab.addNamespace("console");
    }

    @BeforeEach
    void forgetEarlierDiagnostics() {
        diagnostics.clear();
    }

    @AfterAll
    void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    private Daemon newDaemon(String name) {
        Daemon daemon = new Daemon(lab, ns, name, "127.0.0.1:18080", List.of());
        daemons.add(daemon);
        diagnostics.add("natpmpd " + name, daemon::diagnostics);
        return daemon;
    }

    /** @return the HTTP status of the console page, 0 when nothing answered */
    private int status(String user, String password) {
        List<String> argv = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "--max-time", "3"));
        if (user != null) {
            argv.addAll(List.of("-u", user + ":" + password));
        }
        argv.add(CONSOLE);
        ExecResult result = lab.exec(ns, Duration.ofSeconds(5), argv.toArray(String[]::new));
        try {
            return Integer.parseInt(result.stdout().trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private String awaitPassword(Daemon daemon) {
        assertThat(daemon.current().awaitOutput(out -> PASSWORD.matcher(out).find(), Duration.ofSeconds(30)))
                .as("a generated password line in:\n%s", daemon.output()).isTrue();
        Matcher m = PASSWORD.matcher(daemon.output());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private void awaitConsole(Daemon daemon, String password) {
        // 404/500 while the console (re)registers, connection refused before Jetty: poll for 200 (BUILD-NOTES 13)
        daemon.awaitReady(START_TIMEOUT, () -> status("admin", password) == 200);
    }

    private static List<String> filesContaining(java.nio.file.Path dir, String text) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(dir)) {
            return files.filter(java.nio.file.Files::isRegularFile).filter(f -> {
                try {
                    return java.nio.file.Files.size(f) < 4_000_000
                            && new String(java.nio.file.Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)
                                    .contains(text);
                } catch (java.io.IOException e) {
                    return false;
                }
            }).map(Object::toString).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "natpmpd {0} -> exit 2, one line naming {1}")
    @CsvSource(delimiter = '|', value = {
        "-x|-x",
        "-l abc|-l",
        "-u 70000|-u",
        "-t 0|-t",
        "--http 127.0.0.1:notaport|--http",
        "-i|-i",
    })
    void item8_optionErrorExits2WithOneLineNamingTheOption(String args, String option) {
        Requirements.requireAssembly();
        List<String> argv = new ArrayList<>(List.of(Requirements.launcher().toString(),
                "--state", lab.workDir().resolve("unused-state").toString(),
                "--load", lab.workDir().resolve("unused-load").toString()));
        argv.addAll(List.of(args.split(" ")));
        ExecResult result = Proc.run(argv, new byte[0], Duration.ofSeconds(60), Map.of(Daemon.NO_BUILD, "1"));
        assertThat(result.exitCode()).as(result::describe).isEqualTo(2);
        List<String> lines = result.stderr().lines().toList();
        assertThat(lines).as(result::describe).hasSize(1);
        assertThat(lines.get(0)).as(result::describe).startsWith("natpmpd: ").contains(option);
    }

    @Test
    void item8_consoleAnswers401WithoutCredentialsAnd200WithThePrintedPassword() {
        Daemon daemon = newDaemon("console-401-200");
        daemon.start();
        String password = awaitPassword(daemon);
        awaitConsole(daemon, password);
        assertThat(status(null, null)).as("no credentials").isEqualTo(401);
        assertThat(status("admin", "admin")).as("admin/admin is never accepted").isEqualTo(401);
        assertThat(status("admin", password + "x")).as("wrong password").isEqualTo(401);
        assertThat(status("admin", password)).as("generated password").isEqualTo(200);
        assertThat(daemon.output()).as("password printed exactly once").containsOnlyOnce("password '");
        daemon.stop(Duration.ofSeconds(10));
    }

    @Test
    void item8_sigtermStopsTheDaemonWithExit0Within5Seconds() {
        Daemon daemon = newDaemon("sigterm");
        daemon.start();
        awaitConsole(daemon, awaitPassword(daemon));
        // ip netns exec and the launcher exec: the PID we signal is the JVM itself
        assertThat(daemon.command()).as("program behind the tracked PID").isEqualTo("java");
        Daemon.Stop stop = daemon.stop(Duration.ofSeconds(5));
        assertThat(stop.exitCode()).as("exit status after SIGTERM (%s)\n%s", stop, daemon.output()).isEqualTo(0);
        assertThat(stop.elapsed()).isLessThanOrEqualTo(Duration.ofSeconds(5));
        assertThat(stop.leftovers()).as("processes left behind").isEmpty();
        assertThat(status(null, null)).as("console gone").isEqualTo(0);
    }

    @Test
    void item8_secondStartReusesTheStoredPassword() {
        Daemon daemon = newDaemon("restart");
        daemon.start();
        String password = awaitPassword(daemon);
        awaitConsole(daemon, password);
        Daemon.Stop first = daemon.stop(Duration.ofSeconds(5));
        assertThat(first.exitCode()).as("first stop %s", first).isEqualTo(0);

        daemon.start();
        awaitConsole(daemon, password);
        assertThat(status("admin", password)).isEqualTo(200);
        assertThat(status(null, null)).isEqualTo(401);
        assertThat(daemon.output()).as("no new password on the second start").doesNotContain("password '");
        assertThat(filesContaining(daemon.state(), password)).as("files in --state holding the plain password")
                .isEmpty();
        Daemon.Stop second = daemon.stop(Duration.ofSeconds(5));
        assertThat(second.exitCode()).as("second stop %s", second).isEqualTo(0);
    }
}
