// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The firewall backend SPI: turns the desired state of its owners into kernel rules in chains (iptables)
 * or a table (nftables) that the backend owns, and never touches anything else.
 *
 * <p>Each consumer uses its own <em>owner</em> name (a short word such as {@code natpmp} or {@code netmap});
 * the state of one owner never affects another's. Backends keep the last desired state per owner, notice
 * when their rules were removed from outside and restore them, and empty everything they own when they are
 * deactivated. Implementations are thread safe; calls may block for as long as the kernel operation takes
 * (bounded by a timeout).
 *
 * <p>A backend registers this service with the property {@value #BACKEND_PROPERTY} (for example
 * {@code iptables} or {@code nftables}); consumers select one with a {@code backend.target} filter.
 */
@ProviderType
public interface FirewallBackend {
    /** Service property naming the backend implementation. */
    String BACKEND_PROPERTY = "natpmp.backend";

    /** @return the value of {@link #BACKEND_PROPERTY} */
    String name();

    /**
     * Makes the kernel equal to {@code desired} for {@code owner}: installs what is missing and removes
     * strays, in one atomic transaction where the kernel allows it. This is the only call that changes the
     * owner's {@link QueueRule}s.
     *
     * @param owner   the consumer's owner name: 1 to 12 characters of {@code [a-z0-9]}
     * @param desired the whole desired state
     * @throws FirewallException if the kernel operation failed; the previous state is then kept
     */
    void reconcile(String owner, FirewallState desired) throws FirewallException;

    /**
     * Applies a batch atomically on top of the owner's current state. The topology and the queue rules stay
     * the ones of the last {@link #reconcile}; the sources the queue rules skip (the bound hosts) follow the
     * bindings added and removed here in the same transaction.
     *
     * @param owner  the consumer's owner name
     * @param change the batch
     * @throws FirewallException if the batch failed; nothing of it is then installed
     */
    void apply(String owner, FirewallChange change) throws FirewallException;

    /**
     * Reads back what is installed in the kernel for {@code owner}.
     *
     * @param owner the consumer's owner name
     * @return the installed forwards, bindings and queue rules, with the topology of the last reconcile
     * @throws FirewallException if the kernel could not be read
     */
    FirewallState installed(String owner) throws FirewallException;

    /**
     * Removes everything installed for {@code owner} and forgets its state.
     *
     * @param owner the consumer's owner name
     * @throws FirewallException if the kernel operation failed
     */
    void release(String owner) throws FirewallException;

    /** @return the backend's current health */
    BackendHealth health();
}
