// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IPv4 address helpers without name lookups. */
public final class Addresses {
    private Addresses() {
    }

    /**
     * @param address an IPv4 address
     * @return its 32 bits in an int
     */
    public static int toBits(Inet4Address address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    /**
     * @param address an IPv4 address
     * @return its value as an unsigned number
     */
    public static long toUnsigned(Inet4Address address) {
        return Integer.toUnsignedLong(toBits(address));
    }

    /**
     * @param bits 32 address bits
     * @return the address
     */
    public static Inet4Address fromBits(int bits) {
        byte[] b = {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always a valid address", e);
        }
    }

    /**
     * Parses a dotted quad strictly: four decimal numbers 0..255, no names, no shorthand forms.
     *
     * @param text e.g. {@code 192.168.50.10}
     * @return the address
     * @throws IllegalArgumentException if the text is not a dotted quad
     */
    public static Inet4Address parse(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address (a.b.c.d)");
        }
        int bits = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address (a.b.c.d)");
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address (a.b.c.d)");
            }
            bits = (bits << 8) | v;
        }
        return fromBits(bits);
    }

    /**
     * @param text candidate text
     * @return whether {@link #parse(String)} accepts it
     */
    public static boolean isDottedQuad(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
