// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The parsed command line. Accepts the seed daemon's options (SPEC S1: {@code -i public-if},
 * {@code -a private-addr} repeatable, {@code -t max-lifetime}, {@code -l low}, {@code -u high}, {@code -v},
 * {@code -q}, {@code -h}, {@code -V}) and our own ({@code --state DIR}, {@code --load DIR},
 * {@code --http [ADDR:]PORT}). Values are checked here so that a mistake stops the launcher at once.
 *
 * @param help             print usage and exit
 * @param version          print the version and exit
 * @param verbosity        -1 quiet, 0 normal, 1 verbose
 * @param externalInterface the -i value
 * @param lan              the -a values
 * @param maxLifetime      the -t value
 * @param portLow          the -l value
 * @param portHigh         the -u value
 * @param state            the state folder
 * @param load             the FileInstall folder
 * @param httpHost         the console's bind address
 * @param httpPort         the console's port
 * @param resetConsolePassword generate (and print once) a new console password
 */
record Options(boolean help, boolean version, int verbosity, Optional<String> externalInterface, List<String> lan,
        OptionalInt maxLifetime, OptionalInt portLow, OptionalInt portHigh, Path state, Path load, String httpHost,
        int httpPort, boolean resetConsolePassword) {

    static final String DEFAULT_HTTP_HOST = "127.0.0.1";
    static final int DEFAULT_HTTP_PORT = 8080;
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.:@-]{1,15}");
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    Options {
        lan = List.copyOf(lan);
    }

    /** @return whether any option of the NAT-PMP service was given */
    boolean configuresService() {
        return externalInterface.isPresent() || !lan.isEmpty() || maxLifetime.isPresent() || portLow.isPresent()
                || portHigh.isPresent();
    }

    static Options parse(List<String> args) throws UsageException {
        boolean help = false;
        boolean version = false;
        int verbosity = 0;
        String external = null;
        List<String> lan = new ArrayList<>();
        OptionalInt maxLifetime = OptionalInt.empty();
        OptionalInt low = OptionalInt.empty();
        OptionalInt high = OptionalInt.empty();
        Path state = Path.of("var");
        Path load = Path.of("load");
        String httpHost = DEFAULT_HTTP_HOST;
        int httpPort = DEFAULT_HTTP_PORT;
        boolean resetPassword = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-V", "--version" -> version = true;
                case "-v" -> verbosity = 1;
                case "-q" -> verbosity = -1;
                case "--new-console-password" -> resetPassword = true;
                case "-i" -> external = checkInterface(arg, word(args, ++i, arg));
                case "-a" -> lan.add(checkLanAddress(arg, word(args, ++i, arg)));
                case "-t" -> maxLifetime = OptionalInt.of(positive(arg, value(args, ++i, arg), Integer.MAX_VALUE,
                        "not a lifetime in seconds"));
                case "-l" -> low = OptionalInt.of(positive(arg, value(args, ++i, arg), 65535, "not a port number"));
                case "-u" -> high = OptionalInt.of(positive(arg, value(args, ++i, arg), 65535, "not a port number"));
                case "--state" -> state = folder(arg, word(args, ++i, arg));
                case "--load" -> load = folder(arg, word(args, ++i, arg));
                case "--http" -> {
                    String v = word(args, ++i, arg);
                    int colon = v.lastIndexOf(':');
                    if (colon >= 0) {
                        httpHost = checkAddress(arg, v.substring(0, colon));
                        httpPort = positive(arg, v.substring(colon + 1), 65535, "not a port number");
                    } else {
                        httpPort = positive(arg, v, 65535, "not a port number");
                    }
                }
                case "-b", "-p" -> throw new UsageException(arg
                        + ": not supported: natpmpd runs in the foreground; use your service manager to run it in the background");
                default -> throw new UsageException(arg.startsWith("-") ? arg + ": unknown option (try -h)"
                        : arg + ": unexpected argument (try -h)");
            }
        }
        if (low.isPresent() && high.isPresent() && low.getAsInt() > high.getAsInt()) {
            throw new UsageException("-l: low port " + low.getAsInt() + " is above high port " + high.getAsInt()
                    + " (-u)");
        }
        if (!lan.isEmpty() && external == null) {
            throw new UsageException("-i: the public interface is required with -a");
        }
        if (external != null && lan.isEmpty()) {
            throw new UsageException("-a: at least one private address is required with -i");
        }
        return new Options(help, version, verbosity, Optional.ofNullable(external), lan, maxLifetime, low, high,
                state, load, httpHost, httpPort, resetPassword);
    }

    private static String value(List<String> args, int i, String option) throws UsageException {
        if (i >= args.size()) {
            throw new UsageException(option + ": missing value");
        }
        return args.get(i);
    }

    /** A value that may not look like an option: {@code -i --state x} is a missing value, not interface "--state". */
    private static String word(List<String> args, int i, String option) throws UsageException {
        String v = value(args, i, option);
        if (v.startsWith("-")) {
            throw new UsageException(option + ": missing value (got option " + v + ")");
        }
        return v;
    }

    private static int positive(String option, String value, int max, String what) throws UsageException {
        try {
            long n = Long.parseLong(value);
            if (n >= 1 && n <= max) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + ": " + what + " (1.." + max + "): '" + value + "'");
    }

    private static String checkInterface(String option, String value) throws UsageException {
        if (!INTERFACE.matcher(value).matches()) {
            throw new UsageException(option + ": not an interface name: '" + value + "'");
        }
        return value;
    }

    private static String checkLanAddress(String option, String value) throws UsageException {
        String address = checkAddress(option, value);
        if (address.equals("0.0.0.0")) {
            // RFC 6886 §3: requests on the external side must never be accepted, so no wildcard
            throw new UsageException(option + ": 0.0.0.0 would listen on the external side too; name each private address");
        }
        return address;
    }

    private static String checkAddress(String option, String value) throws UsageException {
        if (DOTTED_QUAD.matcher(value).matches()) {
            try {
                InetAddress a = InetAddress.getByName(value);
                if (a instanceof Inet4Address) {
                    return a.getHostAddress();
                }
            } catch (UnknownHostException e) {
                // reported below
            }
        }
        throw new UsageException(option + ": not an IPv4 address: '" + value + "'");
    }

    private static Path folder(String option, String value) throws UsageException {
        if (value.isBlank()) {
            throw new UsageException(option + ": empty folder name");
        }
        return Path.of(value);
    }

    static String usage() {
        return String.join("\n",
                "usage: natpmpd [-v|-q] -i public-if -a private-addr [-a private-addr ...]",
                "               [-t max-lifetime] [-l low] [-u high]",
                "               [--state DIR] [--load DIR] [--http [ADDR:]PORT] [--new-console-password]",
                "       natpmpd demo",
                "       natpmpd -h | -V",
                "",
                "  -i public-if     external (WAN) interface whose address NAT-PMP reports",
                "  -a private-addr  LAN address to serve NAT-PMP on (repeatable)",
                "  -t max-lifetime  longest lifetime granted, in seconds",
                "  -l low, -u high  range of external ports handed out",
                "  -v, -q           more or less logging",
                "  --state DIR      framework cache, configuration and console credentials (default ./var)",
                "  --load DIR       folder watched for .cfg/.config files and bundle jars (default ./load)",
                "  --http [ADDR:]PORT  Web Console address (default 127.0.0.1:8080)",
                "  --new-console-password  replace the generated console password (printed once)",
                "",
                "Options -i/-a/-t/-l/-u are written to DIR/natpmp.service.cfg in the load folder;",
                "edit that file (or use the Web Console) to change the running daemon.");
    }
}
