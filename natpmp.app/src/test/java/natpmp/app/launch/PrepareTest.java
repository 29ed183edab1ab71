// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final Prepare prepare = new Prepare(new PrintStream(printed, true, StandardCharsets.UTF_8),
            new SplittableRandom(42));

    private List<String> run(String... args) throws Exception {
        return prepare.run(Path.of("/opt/natpmpd.jar"), false, List.of(args));
    }

    @Test
    void serviceOptionsBecomeConfigurationAndOtherKeysAreKept() throws Exception {
        Path load = dir.resolve("load");
        Files.createDirectories(load);
        Files.writeString(load.resolve("natpmp.service.cfg"), "# mine\nrules=deny 1-1023 0.0.0.0/0 1-65535\nport.low=1500\n");
        run("--state", dir.resolve("var").toString(), "--load", load.toString(), "-i", "wan0", "-a", "192.168.50.1",
                "-a", "192.168.60.1", "-t", "3600", "-u", "60000");
        String cfg = Files.readString(load.resolve("natpmp.service.cfg"));
        assertThat(cfg).contains("# mine", "rules=deny 1-1023 0.0.0.0/0 1-65535", "port.low=1500",
                "external.interface=wan0", "lan=192.168.50.1,192.168.60.1", "lifetime.max=3600", "port.high=60000");
    }

    @Test
    void firstStartGeneratesAPasswordOnceAndStoresOnlyItsHash() throws Exception {
        Path state = dir.resolve("var");
        List<String> first = run("--state", state.toString(), "--load", dir.resolve("load").toString());
        String out = printed.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("web console user 'admin' password '");
        String password = out.replaceAll("(?s).*password '([^']+)'.*", "$1");
        String stored = Files.readString(state.resolve(Prepare.CREDENTIALS_FILE));
        assertThat(stored).doesNotContain(password).contains("password={sha-256}");
        Path argfile = state.resolve(Prepare.CONSOLE_ARGFILE);
        assertThat(first).contains("@" + argfile).noneMatch(a -> a.contains("sha-256") || a.contains(password));
        assertThat(Files.readAllLines(argfile)).anyMatch(a -> a.startsWith("-Dfelix.webconsole.password={sha-256}"))
                .contains("-Dfelix.webconsole.username=admin").noneMatch(a -> a.contains(password));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(argfile))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(Prepare.CREDENTIALS_FILE))))
                .isEqualTo("rw-------");

        printed.reset();
        List<String> second = run("--state", state.toString(), "--load", dir.resolve("load").toString());
        assertThat(printed.toString(StandardCharsets.UTF_8)).doesNotContain("password '");
        assertThat(second).contains("@" + argfile);
        assertThat(Files.readString(argfile)).contains(stored.lines().filter(l -> l.startsWith("password="))
                .findFirst().orElseThrow().substring("password=".length()));

        printed.reset();
        run("--state", state.toString(), "--load", dir.resolve("load").toString(), "--new-console-password");
        String renewed = printed.toString(StandardCharsets.UTF_8).replaceAll("(?s).*password '([^']+)'.*", "$1");
        assertThat(renewed).isNotEqualTo(password).hasSize(ConsolePassword.GENERATED_LENGTH);
        assertThat(Files.readString(state.resolve(Prepare.CREDENTIALS_FILE))).isNotEqualTo(stored);
    }

    @Test
    void operatorCredentialsInTheLoadFolderWin() throws Exception {
        Path load = dir.resolve("load");
        Files.createDirectories(load);
        Files.writeString(load.resolve(Prepare.CONSOLE_PID + ".cfg"), "username=ops\npassword=s3cret\n");
        List<String> argv = run("--state", dir.resolve("var").toString(), "--load", load.toString());
        assertThat(argv).noneMatch(a -> a.startsWith("@") || a.startsWith("-Dfelix.webconsole.password"));
        assertThat(printed.toString(StandardCharsets.UTF_8)).doesNotContain("password '");
    }

    @Test
    void commandLineRunsTheJarWithStateAndLoadFolders() throws Exception {
        List<String> argv = run("--state", dir.resolve("s").toString(), "--load", dir.resolve("l").toString(),
                "--http", "127.0.0.1:9999", "-q");
        assertThat(argv.get(0)).endsWith("/bin/java");
        assertThat(argv).contains("-Dlaunch.storage.dir=" + dir.resolve("s").resolve("cache"),
                "-Dfelix.fileinstall.dir=" + dir.resolve("l"), "-Dorg.osgi.service.http.port=9999",
                "-Dorg.apache.felix.http.host=127.0.0.1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        assertThat(argv.subList(argv.size() - 2, argv.size())).containsExactly("-jar", "/opt/natpmpd.jar");
    }

    @Test
    void helpRunsNothing() throws Exception {
        assertThat(run("-h")).isEmpty();
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("usage: natpmpd");
    }
}
