// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;
import natpmp.service.internal.core.Request.ExternalAddressRequest;
import natpmp.service.internal.core.Request.MapRequest;
import natpmp.service.internal.core.Request.ResponseIgnored;
import natpmp.service.internal.core.Request.UnsupportedOpcode;
import natpmp.service.internal.core.Request.UnsupportedVersion;
import natpmp.service.internal.core.Response.ExternalAddressResponse;
import natpmp.service.internal.core.Response.MapResponse;
import natpmp.service.internal.core.Response.UnsupportedOpcodeResponse;
import natpmp.service.internal.core.Response.UnsupportedVersionResponse;

import java.net.Inet4Address;
import java.nio.ByteBuffer;

/**
 * Pure NAT-PMP wire codec (RFC 6886 §3): datagram bytes to {@link Request} values and {@link Response}
 * values to bytes. No I/O, no clock.
 *
 * <h2>Lengths</h2>
 * A request is decoded from the bytes between the buffer's position and limit. Too short for its opcode
 * (fewer than 2 bytes, or a mapping request of fewer than 12) is a {@link MalformedPacketException} (N33);
 * the listener drops it. <b>Longer packets are accepted and the extra trailing bytes ignored</b>, as
 * miniupnpd does: RFC 6886 defines no trailing data, natpmpd and bodgit's natpmpd demand the exact length,
 * and being lenient costs nothing while a future client that pads its requests still gets an answer. The
 * reserved field of a mapping request is ignored (N8, RFC 6886 §3.3 "MUST be ignored").
 *
 * <h2>Versions and opcodes</h2>
 * Byte 0 other than 0 is {@link UnsupportedVersion} (N1), including 2 (PCP) until PCP exists: a PCP client
 * falls back to NAT-PMP when it gets the NAT-PMP reply (N2). Opcodes 128 and up are responses and ignored
 * (N3); other opcodes than 0, 1, 2 are {@link UnsupportedOpcode} (N4).
 *
 * <h2>Unsupported opcode reply</h2>
 * RFC 6886 §3.5 says "the entire request MUST be returned" with the top bit of the opcode set and result 5.
 * Peers answer 8 bytes only. We return the request (at most {@value #MAX_ECHO} bytes) with the opcode's top
 * bit set, bytes 2..3 replaced by the result code and 4..7 by the SSSoE (every response must carry both,
 * N5), padded with zeros to at least 8 bytes: a strict client sees a well-formed error header, an RFC reader
 * gets the rest of its request back.
 */
public final class NatPmpCodec {
    /** The NAT-PMP version this gateway speaks (RFC 6886 §3). */
    public static final int VERSION = 0;
    /** The server port (RFC 6886 §3.1). */
    public static final int SERVER_PORT = 5351;
    /** The client (announcement) port (RFC 6886 §3.2.1). */
    public static final int CLIENT_PORT = 5350;
    /** Opcode of the external-address request. */
    public static final int OP_EXTERNAL_ADDRESS = 0;
    /** Added to a request opcode to form the response opcode. */
    public static final int OP_RESPONSE_BIT = 0x80;
    /** Length of an opcode-0 request. */
    public static final int EXTERNAL_ADDRESS_REQUEST_LENGTH = 2;
    /** Length of a mapping request. */
    public static final int MAP_REQUEST_LENGTH = 12;
    /** Length of an opcode-128 response. */
    public static final int EXTERNAL_ADDRESS_RESPONSE_LENGTH = 12;
    /** Length of a mapping response. */
    public static final int MAP_RESPONSE_LENGTH = 16;
    /** Length of the common error header: version, opcode, result, SSSoE. */
    public static final int ERROR_RESPONSE_LENGTH = 8;
    /** Longest unsupported-opcode echo; the PCP maximum message size (RFC 6887 §7). */
    public static final int MAX_ECHO = 1100;
    /** Largest unsigned 32-bit value (lifetimes, SSSoE). */
    public static final long U32_MAX = 0xffff_ffffL;

    private NatPmpCodec() {
    }

    /**
     * Decodes one request, consuming the buffer up to its limit.
     *
     * @param packet the datagram between position and limit
     * @return the request
     * @throws MalformedPacketException if the datagram is too short for its opcode
     */
    public static Request decode(ByteBuffer packet) throws MalformedPacketException {
        int length = packet.remaining();
        if (length < 2) {
            packet.position(packet.limit());
            throw new MalformedPacketException("packet of " + length + " bytes is shorter than the 2-byte header");
        }
        int start = packet.position();
        int version = Byte.toUnsignedInt(packet.get(start));
        int opcode = Byte.toUnsignedInt(packet.get(start + 1));
        try {
            if (version != VERSION) {
                return new UnsupportedVersion(version, opcode);
            }
            if (opcode >= OP_RESPONSE_BIT) {
                return new ResponseIgnored(opcode);
            }
            if (opcode == OP_EXTERNAL_ADDRESS) {
                return new ExternalAddressRequest();
            }
            if (opcode == Protocol.UDP.natPmpOpcode() || opcode == Protocol.TCP.natPmpOpcode()) {
                if (length < MAP_REQUEST_LENGTH) {
                    throw new MalformedPacketException("mapping request of " + length + " bytes, expected "
                            + MAP_REQUEST_LENGTH);
                }
                Protocol protocol = opcode == Protocol.UDP.natPmpOpcode() ? Protocol.UDP : Protocol.TCP;
                // bytes 2..3 are reserved and MUST be ignored (RFC 6886 §3.3, N8)
                int internalPort = Short.toUnsignedInt(packet.getShort(start + 4));
                int suggested = Short.toUnsignedInt(packet.getShort(start + 6));
                long lifetime = Integer.toUnsignedLong(packet.getInt(start + 8));
                return new MapRequest(protocol, internalPort, suggested, lifetime);
            }
            byte[] whole = new byte[length];
            packet.get(start, whole);
            return new UnsupportedOpcode(opcode, whole);
        } finally {
            packet.position(packet.limit());
        }
    }

    /**
     * @param response a response
     * @return its bytes (big-endian numbers; the IPv4 address as-is)
     */
    public static byte[] encode(Response response) {
        ByteBuffer out = ByteBuffer.allocate(encodedLength(response));
        encode(response, out);
        return out.array();
    }

    /**
     * @param response a response
     * @return how many bytes {@link #encode(Response, ByteBuffer)} writes
     */
    public static int encodedLength(Response response) {
        if (response instanceof ExternalAddressResponse) {
            return EXTERNAL_ADDRESS_RESPONSE_LENGTH;
        }
        if (response instanceof MapResponse) {
            return MAP_RESPONSE_LENGTH;
        }
        if (response instanceof UnsupportedOpcodeResponse u) {
            int len = Math.min(u.request().length, MAX_ECHO);
            return Math.max(len, ERROR_RESPONSE_LENGTH);
        }
        return ERROR_RESPONSE_LENGTH;
    }

    /**
     * Writes a response at the buffer's position.
     *
     * @param response a response
     * @param out      where to write; needs {@link #encodedLength(Response)} bytes remaining
     */
    public static void encode(Response response, ByteBuffer out) {
        int epoch = (int) response.epochSeconds(); // SSSoE is sent modulo 2^32 (RFC 6886 §3.2)
        if (response instanceof ExternalAddressResponse r) {
            header(out, OP_RESPONSE_BIT | OP_EXTERNAL_ADDRESS, r.result(), epoch);
            if (r.result() == ResultCode.SUCCESS && r.externalAddress().isPresent()) {
                out.put(r.externalAddress().get().getAddress());
            } else {
                out.putInt(0); // N6: 0.0.0.0 whenever the result is not success
            }
        } else if (response instanceof MapResponse r) {
            header(out, OP_RESPONSE_BIT | r.protocol().natPmpOpcode(), r.result(), epoch);
            out.putShort((short) r.internalPort());
            out.putShort((short) r.externalPort());
            out.putInt((int) r.lifetime());
        } else if (response instanceof UnsupportedVersionResponse) {
            // N1 + erratum 3618: version 0, opcode 128, result 1
            header(out, OP_RESPONSE_BIT, ResultCode.UNSUPPORTED_VERSION, epoch);
        } else if (response instanceof UnsupportedOpcodeResponse r) {
            byte[] request = r.request();
            int length = encodedLength(r);
            int at = out.position();
            out.put(request, 0, Math.min(request.length, length));
            for (int i = request.length; i < length; i++) {
                out.put((byte) 0);
            }
            int end = out.position();
            out.position(at);
            header(out, Byte.toUnsignedInt(request[1]) | OP_RESPONSE_BIT, ResultCode.UNSUPPORTED_OPCODE, epoch);
            out.position(end);
        } else {
            throw new IllegalArgumentException("unknown response " + response);
        }
    }

    /**
     * @param epochSeconds SSSoE
     * @param address      the external address
     * @return the bytes of a gratuitous announcement (N23)
     */
    public static byte[] announcement(long epochSeconds, Inet4Address address) {
        return encode(ExternalAddressResponse.announcement(epochSeconds, address));
    }

    private static void header(ByteBuffer out, int opcode, ResultCode result, int epoch) {
        out.put((byte) VERSION);
        out.put((byte) opcode);
        out.putShort((short) result.code());
        out.putInt(epoch);
    }

    static void checkU16(String what, int value) {
        if (value < 0 || value > 0xffff) {
            throw new IllegalArgumentException(what + " must be in 0..65535, was " + value);
        }
    }

    static void checkU32(String what, long value) {
        if (value < 0 || value > U32_MAX) {
            throw new IllegalArgumentException(what + " must be in 0.." + U32_MAX + ", was " + value);
        }
    }
}
