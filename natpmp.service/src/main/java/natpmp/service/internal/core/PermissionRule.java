// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.net.Inet4Address;
import java.util.Locale;

/**
 * One permission rule in miniupnpd syntax: {@code allow|deny <ext-ports> <client-ip>[/<prefix>] <int-ports>},
 * ports as {@code N} or {@code N-M} (N34).
 *
 * @param allow         allow or deny
 * @param externalPorts external ports the rule covers
 * @param network       network bits of the client range
 * @param prefixLength  length of the client prefix, 0..32
 * @param internalPorts internal ports the rule covers
 */
public record PermissionRule(boolean allow, PortRange externalPorts, int network, int prefixLength,
        PortRange internalPorts) {

    /** Checks the prefix and normalises the network bits. */
    public PermissionRule {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be in 0..32, was " + prefixLength);
        }
        if (externalPorts == null || internalPorts == null) {
            throw new NullPointerException("port ranges must not be null");
        }
        network &= mask(prefixLength);
    }

    /**
     * @param text e.g. {@code deny 0-1023 0.0.0.0/0 0-65535}
     * @return the rule
     * @throws IllegalArgumentException with a message naming the offending part
     */
    public static PermissionRule parse(String text) {
        String[] f = text.strip().split("\\s+");
        if (f.length != 4) {
            throw new IllegalArgumentException("rule '" + text.strip()
                    + "' must have 4 fields: allow|deny <ext-ports> <client-ip/prefix> <int-ports>");
        }
        String verb = f[0].toLowerCase(Locale.ROOT);
        if (!verb.equals("allow") && !verb.equals("deny")) {
            throw new IllegalArgumentException("rule '" + text.strip() + "' must start with allow or deny");
        }
        String[] net = f[2].split("/", -1);
        if (net.length > 2) {
            throw new IllegalArgumentException("rule '" + text.strip() + "': '" + f[2] + "' is not ip/prefix");
        }
        Inet4Address address;
        int prefix = 32;
        try {
            address = Addresses.parse(net[0]);
            if (net.length == 2) {
                if (!net[1].matches("\\d{1,2}") || Integer.parseInt(net[1]) > 32) {
                    throw new IllegalArgumentException("prefix '" + net[1] + "' must be 0..32");
                }
                prefix = Integer.parseInt(net[1]);
            }
            return new PermissionRule(verb.equals("allow"), PortRange.parseRules(f[1]), Addresses.toBits(address),
                    prefix, PortRange.parseRules(f[3]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rule '" + text.strip() + "': " + e.getMessage(), e);
        }
    }

    /**
     * @param client       the client
     * @param externalPort candidate external port
     * @param internalPort requested internal port
     * @return whether this rule covers the request
     */
    public boolean matches(Inet4Address client, int externalPort, int internalPort) {
        return externalPorts.contains(externalPort) && internalPorts.contains(internalPort)
                && (Addresses.toBits(client) & mask(prefixLength)) == network;
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    @Override
    public String toString() {
        return (allow ? "allow " : "deny ") + externalPorts + " " + Addresses.fromBits(network).getHostAddress() + "/"
                + prefixLength + " " + internalPorts;
    }
}
