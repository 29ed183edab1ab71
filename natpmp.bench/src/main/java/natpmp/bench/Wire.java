// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.nio.ByteBuffer;

/**
 * NAT-PMP requests and replies as the benchmark client needs them (RFC 6886 §3.2, §3.3). Only what a load
 * generator checks is decoded; the daemon's own codec is not reused on purpose, so the benchmark also checks the
 * wire format independently.
 */
final class Wire {
    /** RFC 6886 §3.2: the external address request is just version 0 and opcode 0. */
    static final int ANNOUNCE_REQUEST_LENGTH = 2;
    /** RFC 6886 §3.3: mapping requests are 12 bytes. */
    static final int MAP_REQUEST_LENGTH = 12;
    /** RFC 6886 §3.5: version, opcode, result code, seconds since start of epoch. */
    static final int HEADER_LENGTH = 8;
    /** RFC 6886 §3.2: external address replies are 12 bytes. */
    static final int ANNOUNCE_REPLY_LENGTH = 12;
    /** RFC 6886 §3.3: mapping replies are 16 bytes. */
    static final int MAP_REPLY_LENGTH = 16;
    /** RFC 6886 §3.3: opcode 1 maps UDP, 2 maps TCP. */
    static final int OP_MAP_UDP = 1;
    /** RFC 6886 §3.3. */
    static final int OP_MAP_TCP = 2;
    /** RFC 6886 §3: a reply's opcode is the request's plus 128. */
    static final int REPLY_BIT = 128;

    private Wire() {
    }

    /** Writes an external address request (opcode 0) into {@code out}, flipped for sending. */
    static void announceRequest(ByteBuffer out) {
        out.clear();
        out.put((byte) 0).put((byte) 0);
        out.flip();
    }

    /**
     * Writes a mapping request into {@code out}, flipped for sending. A lifetime of 0 with external port 0 deletes
     * the mapping (RFC 6886 §3.4).
     */
    static void mapRequest(ByteBuffer out, int opcode, int internalPort, int suggestedExternalPort, long lifetime) {
        out.clear();
        out.put((byte) 0).put((byte) opcode).putShort((short) 0);
        out.putShort((short) internalPort).putShort((short) suggestedExternalPort).putInt((int) lifetime);
        out.flip();
    }

    /**
     * A decoded reply, or what the benchmark needs of it.
     *
     * @param opcode       reply opcode (128 + request opcode)
     * @param result       result code, 0 is success
     * @param internalPort internal port of a mapping reply, -1 for other replies
     * @param externalPort mapped external port of a mapping reply, -1 for other replies
     * @param lifetime     granted lifetime of a mapping reply, -1 for other replies
     */
    record Reply(int opcode, int result, int internalPort, int externalPort, long lifetime) {
    }

    /**
     * Decodes a reply from {@code in} (position 0, limit = datagram length). Error replies may be cut short after
     * the 8-byte header (RFC 6886 §3.5); their ports and lifetime are then -1.
     *
     * @return the reply, or {@code null} when the datagram is not a well-formed NAT-PMP reply
     */
    static Reply reply(ByteBuffer in) {
        int n = in.remaining();
        if (n < HEADER_LENGTH || in.get(0) != 0) {
            return null;
        }
        int opcode = in.get(1) & 0xff;
        int result = in.getShort(2) & 0xffff;
        boolean map = opcode == REPLY_BIT + OP_MAP_UDP || opcode == REPLY_BIT + OP_MAP_TCP;
        if (map && n >= MAP_REPLY_LENGTH) {
            return new Reply(opcode, result, in.getShort(8) & 0xffff, in.getShort(10) & 0xffff,
                    in.getInt(12) & 0xffffffffL);
        }
        if ((opcode == REPLY_BIT && n >= ANNOUNCE_REPLY_LENGTH) || ((map || opcode == REPLY_BIT) && result != 0)) {
            return new Reply(opcode, result, -1, -1, -1);
        }
        return null;
    }
}
