// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.net.Inet4Address;

/**
 * A 1:1 host binding of the subnet mapper: traffic from {@code internalAddress} leaves with source
 * {@code externalAddress} and new connections to {@code externalAddress} reach {@code internalAddress}
 * (DNETMAP prenat and postnat).
 *
 * @param internalAddress the private (prenat) address
 * @param externalAddress the public (postnat) address
 */
public record HostBinding(Inet4Address internalAddress, Inet4Address externalAddress) {
    /** Checks every component. */
    public HostBinding {
        Ports.nonNull("internalAddress", internalAddress);
        Ports.nonNull("externalAddress", externalAddress);
    }

    @Override
    public String toString() {
        return internalAddress.getHostAddress() + " <-> " + externalAddress.getHostAddress();
    }
}
