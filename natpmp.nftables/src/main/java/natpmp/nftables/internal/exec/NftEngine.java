// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import java.time.Duration;
import java.util.List;
import natpmp.api.FirewallException;

/**
 * How {@link NftablesFirewall} talks to nftables: one {@code nft} process per call ({@link NftProcessEngine}) or
 * libnftables in-process ({@link LibNftables}). Transactions come one at a time, under the firewall's lock;
 * the watchdog may list at the same time where {@link #listsConcurrently()} says so.
 *
 * <p>Failures are {@link FirewallException}s carrying what nft printed on its error stream: an exit status other
 * than {@link FirewallException#NO_EXIT} means nftables ran and refused; {@code NO_EXIT} means it could not run.
 */
public interface NftEngine extends AutoCloseable {
    /** @return a short name for logs: {@code process} or {@code library} */
    String name();

    /**
     * Applies one transaction, all or nothing (what {@code nft -f -} does with the script on stdin).
     *
     * @param script  the nft script
     * @param timeout how long it may take (the library cannot be interrupted and ignores it)
     * @throws FirewallException if nftables refused the script or could not run
     */
    void run(String script, Duration timeout) throws FirewallException;

    /**
     * Lists in JSON (what {@code nft -j <words>} prints).
     *
     * @param words   the command, e.g. {@code list table ip natpmp}
     * @param timeout how long it may take (the library ignores it)
     * @return the JSON text, valid until the next call on this engine (the library's is a view of its native
     *         output buffer, not copied onto the heap)
     * @throws FirewallException if the listing failed; its {@link FirewallException#stderr()} says why
     */
    CharSequence list(List<String> words, Duration timeout) throws FirewallException;

    /**
     * @return whether {@link #list} may run while another thread runs {@link #run} (a listing then still has to
     *         be used before the next listing)
     */
    default boolean listsConcurrently() {
        return false;
    }

    /**
     * Lets go of what the last listing left behind (libnftables keeps the listed ruleset cached in its context:
     * tens of megabytes of native memory for a large table). Call after the listing has been used.
     */
    default void forgetListing() {
        // nothing kept
    }

    /** Frees what the engine holds; later calls fail. Idempotent. */
    @Override
    void close();
}
