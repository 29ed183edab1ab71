// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Entry point run by {@code ./natpmpd}: {@code Prepare <natpmpd.jar> <tty 0|1> <argv file> -- <user args>}.
 * On success it writes the {@code java} command line, NUL-separated, into the argv file (left empty when
 * there is nothing to run, as for {@code -h}) and exits 0; a usage error prints one line and exits 2.
 */
public final class Prepare {
    static final String SERVICE_PID = "natpmp.service";
    static final String CONSOLE_PID = "org.apache.felix.webconsole.internal.servlet.OsgiManager";
    static final String CONSOLE_USER = "admin";
    static final String CREDENTIALS_FILE = "console-credentials.properties";
    static final String CONSOLE_ARGFILE = "console-credentials.jvmargs";
    /** Folder next to natpmpd.jar with the backend bundles that are hot-deployed through the load folder. */
    static final String BACKENDS = "backends";
    static final int USAGE = 2;

    private final PrintStream out;
    private final RandomGenerator random;

    Prepare(PrintStream out, RandomGenerator random) {
        this.out = out;
        this.random = random;
    }

    /**
     * @param args see the class description
     */
    public static void main(String[] args) {
        if (args.length < 4 || !args[3].equals("--")) {
            System.err.println("natpmpd: internal error: launcher called with wrong arguments");
            System.exit(USAGE);
        }
        try {
            List<String> argv = new Prepare(System.out, new SecureRandom()).run(Path.of(args[0]), args[1].equals("1"),
                    Arrays.asList(args).subList(4, args.length));
            writeArgv(Path.of(args[2]), argv);
        } catch (UsageException e) {
            System.err.println("natpmpd: " + e.getMessage());
            System.exit(USAGE);
        } catch (IOException | UncheckedIOException e) {
            System.err.println("natpmpd: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * @return the java command line, or an empty list when nothing is to be run
     */
    List<String> run(Path jar, boolean terminal, List<String> args) throws UsageException, IOException {
        Options options = Options.parse(args);
        if (options.help()) {
            out.println(Options.usage());
            return List.of();
        }
        if (options.version()) {
            out.println("natpmpd " + version());
            return List.of();
        }
        Path state = options.state().toAbsolutePath().normalize();
        Path load = options.load().toAbsolutePath().normalize();
        Files.createDirectories(state);
        Files.createDirectories(load);
        if (options.configuresService()) {
            writeServiceConfig(load.resolve(SERVICE_PID + ".cfg"), options);
        }
        for (String line : BundleSeeds.seed(jar.toAbsolutePath().getParent().resolve(BACKENDS), load, state)) {
            out.println("natpmpd: " + line);
        }
        if (options.resetConsolePassword()) {
            Files.deleteIfExists(state.resolve(CREDENTIALS_FILE));
        }
        Optional<String> consolePassword = consolePassword(state, load);

        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // A gateway daemon's footprint: one GC thread, two compiler threads, a small code cache and thread
        // stacks, and the C heap handed back to the system every second (the JIT's arenas otherwise stay
        // resident: 190 MB instead of 120 MB after the benchmark). NATPMPD_JAVA_OPTS comes later and overrides.
        argv.add("-XX:+UseSerialGC");
        // most of the heap is the mapping table, which lives long: a young generation of a sixth (not a third)
        // leaves room for 45,000 mappings instead of 30,000 in a 32 MB heap
        argv.add("-XX:NewRatio=5");
        argv.add("-XX:CICompilerCount=2");
        argv.add("-XX:ReservedCodeCacheSize=16m");
        argv.add("-Xss512k");
        argv.add("-XX:+UnlockExperimentalVMOptions");
        argv.add("-XX:TrimNativeHeapInterval=1000");
        argv.add("-Dlaunch.storage.dir=" + state.resolve("cache"));
        argv.add("-Dfelix.fileinstall.dir=" + load);
        argv.add("-Dorg.apache.felix.http.host=" + options.httpHost());
        argv.add("-Dorg.osgi.service.http.port=" + options.httpPort());
        argv.add("-Dnatpmp.state.dir=" + state);
        if (consolePassword.isPresent()) {
            // in a private argument file, so that not even the hash shows in ps
            Path secrets = state.resolve(CONSOLE_ARGFILE);
            writeAtomically(secrets, "-Dfelix.webconsole.username=" + CONSOLE_USER + "\n"
                    + "-Dfelix.webconsole.password=" + consolePassword.get() + "\n", true);
            argv.add("@" + secrets);
        }
        if (terminal) {
            argv.add("-Dgosh.args=");
        }
        if (options.verbosity() > 0) {
            argv.add("-Dorg.slf4j.simpleLogger.log.natpmp=debug");
        } else if (options.verbosity() < 0) {
            argv.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        }
        String extra = System.getenv("NATPMPD_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            argv.addAll(Arrays.asList(extra.trim().split("\\s+")));
        }
        argv.add("-jar");
        argv.add(jar.toAbsolutePath().toString());
        out.println("natpmpd: state in " + state + ", configuration folder " + load);
        out.println("natpmpd: web console at http://" + options.httpHost() + ":" + options.httpPort()
                + "/system/console");
        return argv;
    }

    private static String version() {
        String v = Prepare.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }

    /** Writes the service options into the FileInstall file, keeping every other key the file already has. */
    static void writeServiceConfig(Path file, Options options) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> comments = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#") || t.startsWith("!")) {
                    comments.add(line);
                    continue;
                }
                int eq = t.indexOf('=');
                if (eq > 0) {
                    values.put(t.substring(0, eq).strip(), t.substring(eq + 1).strip());
                }
            }
        } else {
            comments.add("# Written by ./natpmpd from its command line; edit freely, changes apply live.");
        }
        options.externalInterface().ifPresent(v -> values.put("external.interface", v));
        if (!options.lan().isEmpty()) {
            values.put("lan", String.join(",", options.lan()));
        }
        options.maxLifetime().ifPresent(v -> values.put("lifetime.max", Integer.toString(v)));
        options.portLow().ifPresent(v -> values.put("port.low", Integer.toString(v)));
        options.portHigh().ifPresent(v -> values.put("port.high", Integer.toString(v)));
        StringBuilder text = new StringBuilder();
        comments.forEach(c -> text.append(c).append('\n'));
        values.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        writeAtomically(file, text.toString(), false);
    }

    /**
     * The console password in stored form, generated and printed once on first start; empty when the operator
     * configured credentials in the load folder (the console's own configuration then applies).
     */
    Optional<String> consolePassword(Path state, Path load) throws IOException {
        if (Files.exists(load.resolve(CONSOLE_PID + ".cfg")) || Files.exists(load.resolve(CONSOLE_PID + ".config"))) {
            return Optional.empty();
        }
        Path file = state.resolve(CREDENTIALS_FILE);
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.startsWith("password=") && ConsolePassword.isStoredForm(line.substring(9))) {
                    return Optional.of(line.substring(9));
                }
            }
            throw new IOException(file + ": no valid 'password=' line; delete the file to generate a new password");
        }
        String password = ConsolePassword.generate(random);
        String stored = ConsolePassword.hash(password, random);
        writeAtomically(file, "# Web Console credentials generated by ./natpmpd (salted SHA-256 as the console stores it)\n"
                + "username=" + CONSOLE_USER + "\npassword=" + stored + "\n", true);
        out.println("natpmpd: web console user '" + CONSOLE_USER + "' password '" + password + "'"
                + " (shown only this once; stored hashed in " + file + ")");
        return Optional.of(stored);
    }

    static void writeAtomically(Path file, String text, boolean secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        if (secret) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void writeArgv(Path file, List<String> argv) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String a : argv) {
            b.append(a).append('\0');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }
}
