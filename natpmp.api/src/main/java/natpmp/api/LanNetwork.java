// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * An internal (LAN) network the gateway serves.
 *
 * @param interfaceName the LAN interface, e.g. {@code br-lan}
 * @param address       the gateway's own address on it
 * @param prefixLength  the length of the LAN prefix, 0..32
 */
public record LanNetwork(String interfaceName, Inet4Address address, int prefixLength) {
    /** Checks every component. */
    public LanNetwork {
        Ports.nonNull("interfaceName", interfaceName);
        Ports.nonNull("address", address);
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefixLength must be in 0..32, was " + prefixLength);
        }
    }

    /** @return the network address of this LAN as an unsigned 32-bit value in an int */
    public int networkBits() {
        return toBits(address) & mask();
    }

    /** @return the netmask as an int */
    public int mask() {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /**
     * @param candidate an address
     * @return whether {@code candidate} lies inside this LAN's prefix
     */
    public boolean contains(Inet4Address candidate) {
        return (toBits(candidate) & mask()) == networkBits();
    }

    /** @return the prefix in CIDR notation, e.g. {@code 192.168.50.0/24} */
    public String cidr() {
        int n = networkBits();
        return ((n >>> 24) & 0xff) + "." + ((n >>> 16) & 0xff) + "." + ((n >>> 8) & 0xff) + "." + (n & 0xff)
                + "/" + prefixLength;
    }

    static int toBits(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }
}
