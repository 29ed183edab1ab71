// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;

/**
 * Where the gateway's networks are: what a backend needs besides the forwards themselves to limit DNAT to
 * the external side and to do hairpin NAT for LAN hosts.
 *
 * @param externalInterface the external (WAN) interface name
 * @param externalAddress   its current address, empty while it has none
 * @param lanNetworks       the internal networks served
 */
public record Topology(String externalInterface, Optional<Inet4Address> externalAddress, List<LanNetwork> lanNetworks) {
    /** Checks and copies every component. */
    public Topology {
        Ports.nonNull("externalInterface", externalInterface);
        Ports.nonNull("externalAddress", externalAddress);
        lanNetworks = List.copyOf(lanNetworks);
    }

    /**
     * @param address an address
     * @return the LAN network containing it, if any
     */
    public Optional<LanNetwork> lanOf(Inet4Address address) {
        for (LanNetwork lan : lanNetworks) {
            if (lan.contains(address)) {
                return Optional.of(lan);
            }
        }
        return Optional.empty();
    }
}
