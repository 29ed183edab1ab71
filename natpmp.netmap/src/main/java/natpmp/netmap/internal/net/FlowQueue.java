// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.net;

/**
 * The first packets of new connections from hosts without a binding, held by the kernel until the mapper gives a
 * verdict (an NFQUEUE queue). Design for the data path; no kernel implementation is shipped yet (see the
 * module report): a real one binds an NFQUEUE number through libnetfilter_queue, reads packets on its own
 * thread, extracts the IPv4 source and calls the handler.
 *
 * <p>The queue rule sits before the nat hook (e.g. filter FORWARD, {@code ct state new}, source in a rule
 * subnet and not in the set of bound hosts, {@code queue bypass}), so {@link Verdict#ACCEPT} lets the packet
 * continue to POSTROUTING, where the 1:1 rule installed meanwhile translates it.
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

    /** Stops delivering; packets still queued are accepted by the kernel ({@code bypass}). */
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
