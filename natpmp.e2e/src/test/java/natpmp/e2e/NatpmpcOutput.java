// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code natpmpc} (libnatpmp's sample client) reported, parsed from its text output.
 *
 * <p>natpmpc always asks for the external address first (OP 0) and stops there when that fails; with
 * {@code -a} it then sends one MAP request. Lines it prints (libnatpmp 20150609, Debian 12):
 * <pre>
 * Public IP address : 203.0.113.1
 * Mapped public port 40001 protocol UDP to local port 4001 liftime 3600     ("liftime" sic; newer: lifetime)
 * readnatpmpresponseorretry() failed : network failure                      (result 3, on stderr)
 * </pre>
 * Result codes map to: 1 "unsupported nat-pmp version error from server", 2 "... not authorized" (text varies),
 * 3 "network failure", 4 "nat-pmp server out of resources", 5 "unsupported nat-pmp opcode error from server";
 * no answer after the retries: "the gateway does not support nat-pmp".
 *
 * @param publicAddress the external address from OP 0, when it succeeded
 * @param mappedPort    the mapped external port from the MAP reply, when it succeeded
 * @param protocol      "UDP" or "TCP" from the MAP reply, when it succeeded
 * @param privatePort   the internal port echoed in the MAP reply
 * @param lifetime      the granted lifetime
 * @param failure       libnatpmp's error text when a request failed
 */
public record NatpmpcOutput(Optional<String> publicAddress, OptionalInt mappedPort, Optional<String> protocol,
        OptionalInt privatePort, OptionalLong lifetime, Optional<String> failure) {

    private static final Pattern PUBLIC = Pattern.compile("Public IP address : (\\d+\\.\\d+\\.\\d+\\.\\d+)");
    private static final Pattern MAPPED = Pattern.compile(
            "Mapped public port (\\d+) protocol (\\w+) to local port (\\d+) lif?e?time (\\d+)");
    private static final Pattern FAILED = Pattern.compile("readnatpmpresponseorretry\\(\\) failed : ([^\\n]*)");

    /**
     * @param text natpmpc's stdout and stderr
     * @return the parsed facts
     */
    public static NatpmpcOutput parse(String text) {
        Matcher pub = PUBLIC.matcher(text);
        Optional<String> address = pub.find() ? Optional.of(pub.group(1)) : Optional.empty();
        Matcher map = MAPPED.matcher(text);
        boolean mapped = map.find();
        Matcher fail = FAILED.matcher(text);
        Optional<String> failure = fail.find() ? Optional.of(fail.group(1).trim()) : Optional.empty();
        return new NatpmpcOutput(address,
                mapped ? OptionalInt.of(Integer.parseInt(map.group(1))) : OptionalInt.empty(),
                mapped ? Optional.of(map.group(2)) : Optional.empty(),
                mapped ? OptionalInt.of(Integer.parseInt(map.group(3))) : OptionalInt.empty(),
                mapped ? OptionalLong.of(Long.parseLong(map.group(4))) : OptionalLong.empty(),
                failure);
    }

    /** @return true when libnatpmp reported result 3 (Network Failure) */
    public boolean networkFailure() {
        return failure.map(f -> f.toLowerCase(java.util.Locale.ROOT).contains("network failure")).orElse(false);
    }
}
