// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.time.Duration;

/**
 * Runs libnatpmp's {@code natpmpc} inside a lab namespace, always with an explicit gateway ({@code -g}).
 * natpmpc retries an unanswered request for about two minutes (250 ms doubling, 9 tries), so every call has a
 * timeout; a timed-out call means "no answer".
 */
public final class Natpmpc {

    /** Long enough for an answering daemon under load, short enough to call silence "no answer". */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(6);

    private final NamespaceLab lab;

    /** @param lab the lab whose namespaces the client runs in */
    public Natpmpc(NamespaceLab lab) {
        this.lab = lab;
    }

    /**
     * A completed natpmpc run.
     *
     * @param exec   the raw process result
     * @param parsed the parsed output
     */
    public record Run(ExecResult exec, NatpmpcOutput parsed) {

        /** @return the mapped external port; fails with the full output when there is none */
        public int mappedPort() {
            if (parsed.mappedPort().isEmpty()) {
                throw new AssertionError("natpmpc reported no mapping:\n" + exec.describe());
            }
            return parsed.mappedPort().getAsInt();
        }

        /** @return a description for assertion messages */
        public String describe() {
            return exec.describe();
        }
    }

    /**
     * OP 0: asks {@code gateway} for the external address.
     *
     * @param ns      client namespace
     * @param gateway address natpmpc sends to
     * @param timeout how long to wait for an answer
     * @return the run
     */
    public Run externalAddress(String ns, String gateway, Duration timeout) {
        ExecResult result = lab.exec(ns, timeout, "natpmpc", "-g", gateway);
        return new Run(result, NatpmpcOutput.parse(result.output()));
    }

    /**
     * OP 1/2: {@code natpmpc -g gateway -a public private proto lifetime} (lifetime 0 deletes).
     *
     * @param ns          client namespace
     * @param gateway     address natpmpc sends to
     * @param proto       "udp" or "tcp"
     * @param publicPort  suggested external port
     * @param privatePort internal port
     * @param lifetime    requested lifetime in seconds
     * @return the run
     */
    public Run map(String ns, String gateway, String proto, int publicPort, int privatePort, long lifetime) {
        ExecResult result = lab.exec(ns, DEFAULT_TIMEOUT, "natpmpc", "-g", gateway, "-a", Integer.toString(publicPort),
                Integer.toString(privatePort), proto, Long.toString(lifetime));
        return new Run(result, NatpmpcOutput.parse(result.output()));
    }
}
