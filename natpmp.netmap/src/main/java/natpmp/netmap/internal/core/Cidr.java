// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

/**
 * An IPv4 prefix. {@link #parsePrefix} applies the rules of the DNETMAP {@code --prefix} option (D1);
 * {@link #parse} accepts any prefix length for source matches.
 *
 * @param network the network address bits (host bits zero)
 * @param bits    the prefix length, 0..32
 */
public record Cidr(int network, int bits) {
    /** Checks the components. */
    public Cidr {
        if (bits < 0 || bits > 32) {
            throw new IllegalArgumentException("prefix length must be in 0..32, was " + bits);
        }
        if ((network & ~mask(bits)) != 0) {
            throw new IllegalArgumentException("Bad network address " + Ipv4.format(network) + "/" + bits);
        }
    }

    /**
     * Parses a pool prefix as the DNETMAP {@code --prefix} option does (D1): {@code addr[/bits|/dotted-mask]};
     * no mask means /32; a mask of 0 is "Netmask needed"; fewer than 16 bits is "Max netmask size is /16"
     * (checked for the dotted form too, where the kernel tool leaves the value undefined); host bits set is
     * "Bad network address".
     *
     * @param text the prefix
     * @return the prefix
     * @throws IllegalArgumentException with the DNETMAP message
     */
    public static Cidr parsePrefix(String text) {
        // the mask is checked before the host bits, as in the kernel tool
        int bits = (int) parseParts(text)[1];
        if (bits == 0) {
            throw new IllegalArgumentException("Netmask needed: '" + text + "'");
        }
        if (bits < 16) {
            throw new IllegalArgumentException("Max netmask size is /16: '" + text + "'");
        }
        return parseAny(text);
    }

    /**
     * Parses a source match {@code addr[/bits|/dotted-mask]} of any length; no mask means /32.
     *
     * @param text the prefix
     * @return the prefix
     * @throws IllegalArgumentException if malformed or host bits are set
     */
    public static Cidr parse(String text) {
        return parseAny(text);
    }

    private static Cidr parseAny(String text) {
        long[] parts = parseParts(text);
        int address = (int) parts[0];
        int bits = (int) parts[1];
        if ((address & ~mask(bits)) != 0) {
            throw new IllegalArgumentException("Bad network address: '" + text + "'");
        }
        return new Cidr(address, bits);
    }

    /** @return {address, bits} without the host-bit check */
    private static long[] parseParts(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        int address = Ipv4.parse(slash < 0 ? t : t.substring(0, slash));
        int bits = 32;
        if (slash >= 0) {
            String m = t.substring(slash + 1);
            if (m.contains(".")) {
                int mask = Ipv4.parse(m);
                bits = Integer.bitCount(mask);
                if (mask != mask(bits)) {
                    throw new IllegalArgumentException("not a contiguous netmask: '" + text + "'");
                }
            } else {
                if (m.isEmpty() || m.length() > 2 || !m.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw new IllegalArgumentException("bad prefix length: '" + text + "'");
                }
                bits = Integer.parseInt(m);
                if (bits > 32) {
                    throw new IllegalArgumentException("bad prefix length: '" + text + "'");
                }
            }
        }
        return new long[] {address, bits};
    }

    /**
     * @param bits prefix length 0..32
     * @return the netmask bits
     */
    public static int mask(int bits) {
        return bits == 0 ? 0 : -1 << (32 - bits);
    }

    /** @return the netmask bits */
    public int mask() {
        return mask(bits);
    }

    /** @return the number of addresses, network to broadcast */
    public long size() {
        return 1L << (32 - bits);
    }

    /** @return the broadcast (last) address */
    public int last() {
        return network | ~mask();
    }

    /**
     * @param address address bits
     * @return whether the address lies in this prefix
     */
    public boolean contains(int address) {
        return (address & mask()) == network;
    }

    /**
     * @param other another prefix
     * @return whether the two share any address
     */
    public boolean overlaps(Cidr other) {
        int m = mask(Math.min(bits, other.bits));
        return (network & m) == (other.network & m);
    }

    /** @return the /proc file name stem {@code <net>_<bits>} (D13) */
    public String procName() {
        return Ipv4.format(network) + "_" + bits;
    }

    @Override
    public String toString() {
        return Ipv4.format(network) + "/" + bits;
    }
}
