// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.net;

/**
 * The first packets of new connections from hosts without a binding, held by the kernel until the mapper gives a
 * verdict (an NFQUEUE queue). {@link NfqueueFlowQueue} binds a queue number over raw nfnetlink, reads packets
 * on its own thread, extracts the IPv4 source and calls the handler.
 *
 * <p>The firewall backend's queue rule ({@link natpmp.api.QueueRule}) sits after the forwarding decision and
 * before source NAT (mangle POSTROUTING with iptables, a postrouting filter chain at priority mangle with
 * nftables), matches {@code ct state new} flows leaving through the external interface from a rule subnet whose
 * source is not bound, and has no bypass. So {@link Verdict#ACCEPT} lets the packet continue to the nat hook,
 * where the 1:1 rule installed meanwhile translates it.
 */
public interface FlowQueue extends AutoCloseable {
    /**
     * Starts delivering packets.
     *
     * @param handler called for each queued packet on the queue's thread; must not block
     */
    void start(Handler handler);

    /**
     * Gives the verdict of a packet; thread safe, non-blocking.
     *
     * @param packetId the kernel's packet id
     * @param verdict  what to do
     */
    void verdict(long packetId, Verdict verdict);

    /**
     * Stops delivering and unbinds the queue; the kernel drops packets still queued and, while the queue rule
     * is installed, every later one (the rule has no bypass: fail closed).
     */
    @Override
    void close();

    /** Receives queued packets. */
    @FunctionalInterface
    interface Handler {
        /**
         * @param packetId    the kernel's packet id
         * @param source      IPv4 source bits
         * @param destination IPv4 destination bits
         */
        void queued(long packetId, int source, int destination);
    }

    /** Verdicts. */
    enum Verdict {
        /** Continue: to the nat hook, translated when a binding was installed. */
        ACCEPT,
        /** Drop: the host retransmits (used when the firewall could not be updated in time). */
        DROP
    }
}
