// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * A first-packet rule of the subnet mapper: the first packet of every new connection whose source lies in
 * {@code network/prefixLength}, that leaves through the external interface of the owner's
 * {@link Topology}, and whose source holds no {@link HostBinding} of the same owner goes to NFQUEUE
 * {@code queueNumber}. The program reading that queue decides the packet (it may install a binding first)
 * and gives the verdict; the packet then meets the owner's SNAT rules.
 *
 * <p>Backends hold the packet <em>after</em> the forwarding decision of every other rule of the host (in
 * the postrouting path, before source NAT), so a queued packet was already allowed by the operator's own
 * filter rules, and an accept verdict only lets it continue to source NAT. Connections of bound sources
 * never reach the queue: the lookup of the owner's bound sources is part of the rule, so a bound host costs
 * no user-space work. The rule does not bypass the queue when nobody listens: such packets are dropped
 * (fail closed), so a private address never leaves untranslated while the reader is down.
 *
 * <p>Queue rules change only through {@link FirewallBackend#reconcile}; the bound sources follow every
 * {@link FirewallChange} of the owner's bindings.
 *
 * @param network      the source network address; its host bits must be zero
 * @param prefixLength the source prefix length, 0..32 (0 = every source)
 * @param queueNumber  the NFQUEUE number, 0..65535
 */
public record QueueRule(Inet4Address network, int prefixLength, int queueNumber) {
    /** Largest NFQUEUE number (a 16-bit field in the kernel's queue target). */
    public static final int MAX_QUEUE_NUMBER = 65535;

    /**
     * Checks every component.
     *
     * @throws IllegalArgumentException if the prefix length or queue number is out of range, or the network
     *                                  address has host bits set
     */
    public QueueRule {
        Ports.nonNull("network", network);
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefixLength must be in 0..32, was " + prefixLength);
        }
        if (queueNumber < 0 || queueNumber > MAX_QUEUE_NUMBER) {
            throw new IllegalArgumentException("queueNumber must be in 0.." + MAX_QUEUE_NUMBER + ", was "
                    + queueNumber);
        }
        int bits = LanNetwork.toBits(network);
        if ((bits & ~mask(prefixLength)) != 0) {
            throw new IllegalArgumentException("network " + network.getHostAddress() + "/" + prefixLength
                    + " has host bits set");
        }
    }

    /**
     * @param candidate an address
     * @return whether {@code candidate} lies in this rule's source network
     */
    public boolean contains(Inet4Address candidate) {
        return (LanNetwork.toBits(candidate) & mask(prefixLength)) == LanNetwork.toBits(network);
    }

    /** @return the source network in CIDR notation, e.g. {@code 192.168.50.0/24} */
    public String cidr() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    @Override
    public String toString() {
        return cidr() + " -> queue " + queueNumber;
    }
}
