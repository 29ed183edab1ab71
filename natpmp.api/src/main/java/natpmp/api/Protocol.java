// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import java.util.Locale;

/** Transport protocol of a port mapping. */
public enum Protocol {
    /** UDP, NAT-PMP opcode 1, IP protocol 17. */
    UDP(1, 17),
    /** TCP, NAT-PMP opcode 2, IP protocol 6. */
    TCP(2, 6);

    private final int natPmpOpcode;
    private final int ipProtocol;

    Protocol(int natPmpOpcode, int ipProtocol) {
        this.natPmpOpcode = natPmpOpcode;
        this.ipProtocol = ipProtocol;
    }

    /** @return the NAT-PMP request opcode for mappings of this protocol (RFC 6886 §3.3) */
    public int natPmpOpcode() {
        return natPmpOpcode;
    }

    /** @return the IANA IP protocol number */
    public int ipProtocol() {
        return ipProtocol;
    }

    /** @return the lower-case name used by iptables and nft ({@code udp}, {@code tcp}) */
    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return the other protocol: the companion of a mapping (RFC 6886 §3.3 companion port) */
    public Protocol companion() {
        return this == UDP ? TCP : UDP;
    }
}
