// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.LanNetwork;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

/** The lab of DESIGN.md: LAN 192.168.50.0/24, WAN 203.0.113.0/24, binding pool 198.18.0.0/15. */
public final class Fixtures {
    /** The external interface. */
    public static final String WAN = "wan0";
    /** The LAN. */
    public static final LanNetwork LAN = new LanNetwork("lan0", ip("192.168.50.1"), 24);
    /** A guest LAN. */
    public static final LanNetwork GUEST = new LanNetwork("lan1", ip("10.20.0.1"), 16);
    /** Known external address. */
    public static final Topology WITH_ADDRESS = new Topology(WAN, Optional.of(ip("203.0.113.1")), List.of(LAN));
    /** External address unknown. */
    public static final Topology WITHOUT_ADDRESS = new Topology(WAN, Optional.empty(), List.of(LAN));
    /** Two LANs. */
    public static final Topology TWO_LANS = new Topology(WAN, Optional.of(ip("203.0.113.1")), List.of(LAN, GUEST));

    /** TCP 8080 to a web server. */
    public static final PortForward WEB = new PortForward(Protocol.TCP, 8080, ip("192.168.50.10"), 80);
    /** UDP 4500 to a VPN endpoint. */
    public static final PortForward VPN = new PortForward(Protocol.UDP, 4500, ip("192.168.50.11"), 4500);
    /** TCP 2222 to ssh. */
    public static final PortForward SSH = new PortForward(Protocol.TCP, 2222, ip("192.168.50.12"), 22);
    /** A 1:1 binding. */
    public static final HostBinding HOST = new HostBinding(ip("192.168.50.20"), ip("198.18.0.5"));
    /** The owner names of the NAT-PMP service. */
    public static final OwnerNames NATPMP = OwnerNames.of("natpmp");
    /** The owner names of the subnet mapper. */
    public static final OwnerNames NETMAP = OwnerNames.of("netmap");
    /** A second 1:1 binding. */
    public static final HostBinding SECOND = new HostBinding(ip("192.168.50.21"), ip("198.18.0.6"));
    /** The subnet mapper's first-packet rule for the LAN. */
    public static final QueueRule QUEUE_LAN = new QueueRule(ip("192.168.50.0"), 24, 4660);
    /** A more specific first-packet rule with its own queue. */
    public static final QueueRule QUEUE_NARROW = new QueueRule(ip("192.168.50.32"), 28, 4661);
    /** A first-packet rule for one host (nft prints a /32 as the bare address). */
    public static final QueueRule QUEUE_HOST = new QueueRule(ip("10.0.0.7"), 32, 0);

    /**
     * @param topology where the networks are
     * @return the subnet mapper's state: two bindings and three queue rules
     */
    public static FirewallState netmapWithQueue(Topology topology) {
        return new FirewallState(topology, Set.of(), Set.of(HOST, SECOND), Set.of(QUEUE_LAN, QUEUE_NARROW, QUEUE_HOST));
    }

    private Fixtures() {
    }

    /**
     * @param topology the topology
     * @return WEB, VPN, SSH and HOST
     */
    public static FirewallState threeForwardsAndABinding(Topology topology) {
        return new FirewallState(topology, Set.of(WEB, VPN, SSH), Set.of(HOST));
    }

    /**
     * @param dotted a dotted quad
     * @return the address
     */
    public static Inet4Address ip(String dotted) {
        try {
            return (Inet4Address) InetAddress.getByName(dotted);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * @param n     how many
     * @param first the first external port
     * @return n distinct forwards spread over 250 hosts, with distinct external and internal ports
     */
    public static Set<PortForward> many(int n, int first) {
        Set<PortForward> result = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Protocol p = i % 2 == 0 ? Protocol.UDP : Protocol.TCP;
            result.add(new PortForward(p, first + i, ip("192.168.50." + (2 + i % 250)), first + i));
        }
        return result;
    }
}
