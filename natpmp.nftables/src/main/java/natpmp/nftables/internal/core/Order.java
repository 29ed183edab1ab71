// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.util.Comparator;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.QueueRule;

/** Stable orders for rendering, so scripts are reproducible and golden files exact. */
final class Order {
    static final Comparator<PortForward> FORWARDS = Comparator.comparing(PortForward::protocol)
            .thenComparingInt(PortForward::externalPort)
            .thenComparingLong(f -> bits(f.internalAddress()))
            .thenComparingInt(PortForward::internalPort);

    static final Comparator<HostBinding> BINDINGS = Comparator.<HostBinding>comparingLong(
            b -> bits(b.internalAddress())).thenComparingLong(b -> bits(b.externalAddress()));

    /** Most specific source first, so of two overlapping rules the narrower one decides. */
    static final Comparator<QueueRule> QUEUE_RULES = Comparator.comparingInt(QueueRule::prefixLength).reversed()
            .thenComparingLong(q -> bits(q.network())).thenComparingInt(QueueRule::queueNumber);

    private Order() {
    }

    static long bits(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }
}
