// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import natpmp.api.LanNetwork;
import natpmp.service.internal.core.Addresses;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** Looks up interfaces and addresses through {@link NetworkInterface}. */
public final class Interfaces {
    private Interfaces() {
    }

    /**
     * The external address: the first IPv4 address of the interface in the order the kernel lists them
     * (N29: with several, one is picked and used as if it were the only one).
     *
     * @param interfaceName the external interface
     * @return its address, empty while the interface is missing, down or has no IPv4 address
     */
    public static Optional<Inet4Address> firstIpv4(String interfaceName) {
        try {
            NetworkInterface nif = NetworkInterface.getByName(interfaceName);
            if (nif == null || !nif.isUp()) {
                return Optional.empty();
            }
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address v4) {
                    return Optional.of(v4);
                }
            }
        } catch (SocketException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * Resolves the configured LAN entries: an IPv4 address of this host ({@code 192.168.50.1}), optionally
     * with a prefix length ({@code 192.168.50.1/24}, else the interface's), or an interface name (all its IPv4
     * addresses). Never anything on the external interface (RFC 6886 §3, N15).
     *
     * @param entries           the entries
     * @param externalInterface the external interface name
     * @return one LAN network per address, without duplicates
     * @throws IllegalArgumentException with a precise message when an entry cannot be used
     */
    public static List<LanNetwork> resolveLans(List<String> entries, String externalInterface) {
        List<LanNetwork> lans = new ArrayList<>();
        Optional<Inet4Address> external = firstIpv4(externalInterface);
        for (String entry : entries) {
            for (LanNetwork lan : resolve(entry, externalInterface)) {
                if (lan.interfaceName().equals(externalInterface)
                        || external.isPresent() && external.get().equals(lan.address())) {
                    throw new IllegalArgumentException("lan entry '" + entry + "' (" + lan.address().getHostAddress()
                            + ") is on the external interface " + externalInterface
                            + "; NAT-PMP must never listen on the external side (RFC 6886 §3, N15)");
                }
                if (lans.stream().noneMatch(l -> l.address().equals(lan.address()))) {
                    lans.add(lan);
                }
            }
        }
        if (lans.isEmpty()) {
            throw new IllegalArgumentException("lan names no usable IPv4 address");
        }
        return lans;
    }

    private static List<LanNetwork> resolve(String entry, String externalInterface) {
        String[] parts = entry.split("/", -1);
        try {
            if (Addresses.isDottedQuad(parts[0])) {
                Inet4Address address = Addresses.parse(parts[0]);
                NetworkInterface nif = NetworkInterface.getByInetAddress(address);
                if (nif == null) {
                    throw new IllegalArgumentException("lan entry '" + entry + "': " + parts[0]
                            + " is not an address of this host");
                }
                int prefix = parts.length == 2 ? prefix(entry, parts[1]) : prefixOf(nif, address);
                return List.of(new LanNetwork(nif.getName(), address, prefix));
            }
            if (parts.length != 1) {
                throw new IllegalArgumentException("lan entry '" + entry + "' is neither an address nor an interface");
            }
            if (entry.equals(externalInterface)) {
                throw new IllegalArgumentException("lan entry '" + entry + "' is the external interface;"
                        + " NAT-PMP must never listen on the external side (RFC 6886 §3, N15)");
            }
            NetworkInterface nif = NetworkInterface.getByName(entry);
            if (nif == null) {
                throw new IllegalArgumentException("lan entry '" + entry + "': no such interface");
            }
            List<LanNetwork> lans = new ArrayList<>();
            for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
                if (ia.getAddress() instanceof Inet4Address v4) {
                    lans.add(new LanNetwork(nif.getName(), v4, ia.getNetworkPrefixLength()));
                }
            }
            if (lans.isEmpty()) {
                throw new IllegalArgumentException("lan entry '" + entry + "': interface has no IPv4 address");
            }
            return lans;
        } catch (SocketException e) {
            throw new IllegalArgumentException("lan entry '" + entry + "': " + e.getMessage(), e);
        }
    }

    private static int prefix(String entry, String text) {
        if (!text.matches("\\d{1,2}") || Integer.parseInt(text) > 32) {
            throw new IllegalArgumentException("lan entry '" + entry + "': prefix length must be 0..32");
        }
        return Integer.parseInt(text);
    }

    private static int prefixOf(NetworkInterface nif, Inet4Address address) {
        for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
            if (address.equals(ia.getAddress())) {
                return ia.getNetworkPrefixLength();
            }
        }
        return 32;
    }
}
