// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IPv4 addresses as {@code int} values (network order bits, unsigned meaning). */
public final class Ipv4 {
    private Ipv4() {
    }

    /**
     * Parses a dotted quad without any name lookup.
     *
     * @param text e.g. {@code 192.168.0.1}
     * @return the address bits
     * @throws IllegalArgumentException if {@code text} is not a dotted quad
     */
    public static int parse(String text) {
        String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
        }
        int bits = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
            bits = (bits << 8) | octet;
        }
        return bits;
    }

    /**
     * @param bits address bits
     * @return the dotted quad, as the kernel's {@code %pI4}
     */
    public static String format(int bits) {
        return append(new StringBuilder(15), bits).toString();
    }

    /**
     * Appends the dotted quad to {@code out}.
     *
     * @param out  the builder
     * @param bits address bits
     * @return {@code out}
     */
    public static StringBuilder append(StringBuilder out, int bits) {
        return out.append((bits >>> 24) & 0xff).append('.').append((bits >>> 16) & 0xff).append('.')
                .append((bits >>> 8) & 0xff).append('.').append(bits & 0xff);
    }

    /**
     * @param address an address
     * @return its bits
     */
    public static int of(Inet4Address address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    /**
     * @param bits address bits
     * @return the address object (no name lookup)
     */
    public static Inet4Address toAddress(int bits) {
        byte[] b = {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always an address", e);
        }
    }
}
