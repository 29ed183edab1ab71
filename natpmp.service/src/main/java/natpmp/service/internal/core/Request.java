// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.util.Arrays;
import java.util.HexFormat;

/** A decoded NAT-PMP datagram received on port 5351 (RFC 6886 §3). */
public sealed interface Request permits Request.ExternalAddressRequest, Request.MapRequest,
        Request.UnsupportedVersion, Request.UnsupportedOpcode, Request.ResponseIgnored {

    /** Opcode 0: what is the external address (RFC 6886 §3.2, N6)? */
    record ExternalAddressRequest() implements Request {
    }

    /**
     * Opcode 1 (UDP) or 2 (TCP): create, renew or delete a mapping (RFC 6886 §3.3, N8).
     *
     * @param protocol              UDP for opcode 1, TCP for opcode 2
     * @param internalPort          the client's port, 0..65535 (0 with lifetime 0 = delete all, N20)
     * @param suggestedExternalPort the port the client would like, 0..65535 (0 = no preference)
     * @param requestedLifetime     seconds, an unsigned 32-bit value 0..4294967295 (0 = delete, N18)
     */
    record MapRequest(Protocol protocol, int internalPort, int suggestedExternalPort, long requestedLifetime)
            implements Request {
        /** Checks the field ranges. */
        public MapRequest {
            if (protocol == null) {
                throw new NullPointerException("protocol");
            }
            NatPmpCodec.checkU16("internalPort", internalPort);
            NatPmpCodec.checkU16("suggestedExternalPort", suggestedExternalPort);
            NatPmpCodec.checkU32("requestedLifetime", requestedLifetime);
        }

        /** @return whether this asks to delete a mapping (lifetime 0, RFC 6886 §3.4) */
        public boolean isDelete() {
            return requestedLifetime == 0;
        }

        /** @return whether this asks to delete all of the client's mappings of its protocol (N20) */
        public boolean isDeleteAll() {
            return requestedLifetime == 0 && internalPort == 0;
        }
    }

    /**
     * Version byte other than 0 (N1). Version 2 (PCP) also lands here until PCP is implemented: a PCP
     * client that receives the NAT-PMP "unsupported version" reply falls back to NAT-PMP (N2, RFC 6887 §9).
     *
     * @param version the version byte received
     * @param opcode  the opcode byte received
     */
    record UnsupportedVersion(int version, int opcode) implements Request {
    }

    /**
     * Version 0 with an opcode below 128 other than 0, 1, 2 (N4).
     *
     * @param opcode  the opcode received
     * @param request the whole request as received (copied)
     */
    record UnsupportedOpcode(int opcode, byte[] request) implements Request {
        /** Copies the request bytes. */
        public UnsupportedOpcode {
            request = request.clone();
        }

        /** @return a copy of the request bytes */
        @Override
        public byte[] request() {
            return request.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof UnsupportedOpcode u && u.opcode == opcode && Arrays.equals(u.request, request);
        }

        @Override
        public int hashCode() {
            return 31 * opcode + Arrays.hashCode(request);
        }

        @Override
        public String toString() {
            return "UnsupportedOpcode[opcode=" + opcode + ", request=" + HexFormat.of().formatHex(request) + "]";
        }
    }

    /**
     * Opcode 128 or more: a response (perhaps another gateway's announcement); silently ignored (N3).
     *
     * @param opcode the opcode received
     */
    record ResponseIgnored(int opcode) implements Request {
    }
}
