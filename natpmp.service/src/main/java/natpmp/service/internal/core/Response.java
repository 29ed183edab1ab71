// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;

import java.net.Inet4Address;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A NAT-PMP response the gateway sends (RFC 6886 §3). Every variant carries the result code and the
 * Seconds Since Start of Epoch (N5); {@link NatPmpCodec#encode(Response)} turns it into bytes.
 */
public sealed interface Response permits Response.ExternalAddressResponse, Response.MapResponse,
        Response.UnsupportedVersionResponse, Response.UnsupportedOpcodeResponse {

    /** @return the Seconds Since Start of Epoch to send (sent modulo 2^32) */
    long epochSeconds();

    /**
     * Opcode 128: the external address, also used as the gratuitous announcement (N6, N23).
     *
     * @param result          the result code; for anything but success the address is sent as 0.0.0.0 (N6)
     * @param epochSeconds    SSSoE
     * @param externalAddress the external address, empty while there is none
     */
    record ExternalAddressResponse(ResultCode result, long epochSeconds, Optional<Inet4Address> externalAddress)
            implements Response {
        /** Checks every component. */
        public ExternalAddressResponse {
            if (result == null || externalAddress == null) {
                throw new NullPointerException("result and externalAddress must not be null");
            }
        }

        /**
         * @param epochSeconds SSSoE
         * @param address      the current external address
         * @return the gratuitous response multicast to 224.0.0.1:5350 (RFC 6886 §3.2.1)
         */
        public static ExternalAddressResponse announcement(long epochSeconds, Inet4Address address) {
            return new ExternalAddressResponse(ResultCode.SUCCESS, epochSeconds, Optional.of(address));
        }
    }

    /**
     * Opcode 128 + 1 (UDP) or 128 + 2 (TCP): the answer to a mapping request (N9, N18, N21).
     *
     * @param protocol     the protocol of the request (decides the opcode)
     * @param result       the result code
     * @param epochSeconds SSSoE
     * @param internalPort the internal port of the request, always echoed (N21)
     * @param externalPort the mapped external port; 0 when nothing is mapped
     * @param lifetime     the granted lifetime in seconds; 0 on failure and for deletions
     */
    record MapResponse(Protocol protocol, ResultCode result, long epochSeconds, int internalPort, int externalPort,
            long lifetime) implements Response {
        /** Checks every component. */
        public MapResponse {
            if (protocol == null || result == null) {
                throw new NullPointerException("protocol and result must not be null");
            }
            NatPmpCodec.checkU16("internalPort", internalPort);
            NatPmpCodec.checkU16("externalPort", externalPort);
            NatPmpCodec.checkU32("lifetime", lifetime);
        }
    }

    /**
     * The 8-byte "unsupported version" reply: version 0 (the highest we support), opcode 128 as corrected by
     * RFC 6886 erratum 3618, result 1 (N1).
     *
     * @param epochSeconds SSSoE
     */
    record UnsupportedVersionResponse(long epochSeconds) implements Response {
    }

    /**
     * The reply to an unsupported opcode (N4): the request with the top bit of the opcode set, result 5 in
     * bytes 2..3 and the SSSoE in bytes 4..7, padded with zeros to at least 8 bytes and cut at
     * {@link NatPmpCodec#MAX_ECHO} bytes.
     *
     * @param epochSeconds SSSoE
     * @param request      the request as received (copied)
     */
    record UnsupportedOpcodeResponse(long epochSeconds, byte[] request) implements Response {
        /** Copies the request bytes. */
        public UnsupportedOpcodeResponse {
            if (request.length < 2) {
                throw new IllegalArgumentException("request must hold at least version and opcode");
            }
            request = request.clone();
        }

        /** @return a copy of the request bytes */
        @Override
        public byte[] request() {
            return request.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof UnsupportedOpcodeResponse u && u.epochSeconds == epochSeconds
                    && Arrays.equals(u.request, request);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(epochSeconds) * 31 + Arrays.hashCode(request);
        }

        @Override
        public String toString() {
            return "UnsupportedOpcodeResponse[epochSeconds=" + epochSeconds + ", request="
                    + HexFormat.of().formatHex(request) + "]";
        }
    }
}
