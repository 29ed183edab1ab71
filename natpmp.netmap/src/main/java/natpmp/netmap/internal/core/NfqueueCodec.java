// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The netlink messages of the kernel's NFQUEUE interface (nfnetlink_queue), encoded and decoded without any
 * library: netlink headers are in host byte order, the nfnetlink {@code res_id} and the structures inside the
 * attributes in network order (linux/netfilter/nfnetlink_queue.h).
 *
 * <pre>
 * nlmsghdr   u32 len | u16 type = (NFNL_SUBSYS_QUEUE=3) &lt;&lt; 8 | msg | u16 flags | u32 seq | u32 pid
 * nfgenmsg   u8 family | u8 version = 0 | be16 res_id = queue number
 * nlattr     u16 len | u16 type | payload, padded to 4
 * </pre>
 */
public final class NfqueueCodec {
    /** Netlink protocol number of nfnetlink. */
    public static final int NETLINK_NETFILTER = 12;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 1;
    static final int NLM_F_ACK = 4;
    static final int SUBSYS_QUEUE = 3;
    static final int MSG_PACKET = 0;
    static final int MSG_VERDICT = 1;
    static final int MSG_CONFIG = 2;
    static final int CFG_CMD = 1;
    static final int CFG_PARAMS = 2;
    static final int CMD_BIND = 1;
    static final int CMD_UNBIND = 2;
    static final int COPY_PACKET = 2;
    static final int ATTR_PACKET_HDR = 1;
    static final int ATTR_VERDICT_HDR = 2;
    static final int ATTR_PAYLOAD = 10;
    /** Netfilter verdicts. */
    public static final int NF_DROP = 0;
    /** Netfilter verdicts. */
    public static final int NF_ACCEPT = 1;
    private static final int HEADER = 16 + 4;

    /**
     * A queued packet.
     *
     * @param queue       the queue number
     * @param packetId    the kernel's id, for the verdict
     * @param source      IPv4 source, 0 if the payload was not IPv4
     * @param destination IPv4 destination
     */
    public record Packet(int queue, long packetId, int source, int destination) {
    }

    /**
     * What one datagram from the kernel held.
     *
     * @param packets queued packets
     * @param errors  netlink error codes (negative errno; 0 = acknowledgement), by sequence number order
     */
    public record Received(List<Packet> packets, List<Integer> errors) {
    }

    private NfqueueCodec() {
    }

    private static ByteBuffer message(int msg, int flags, int seq, int queue, int attributesLength) {
        int len = HEADER + attributesLength;
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.nativeOrder());
        b.putInt(len).putShort((short) ((SUBSYS_QUEUE << 8) | msg)).putShort((short) flags).putInt(seq).putInt(0);
        b.put((byte) 0).put((byte) 0);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) queue).order(ByteOrder.nativeOrder());
        return b;
    }

    private static void attribute(ByteBuffer b, int type, int payloadLength) {
        b.putShort((short) (4 + payloadLength)).putShort((short) type);
    }

    private static void pad(ByteBuffer b) {
        while (b.position() % 4 != 0) {
            b.put((byte) 0);
        }
    }

    /**
     * @param seq   sequence number
     * @param queue queue number 0..65535
     * @param bind  true: bind the queue; false: unbind
     * @return the config message (with ack request)
     */
    public static byte[] command(int seq, int queue, boolean bind) {
        ByteBuffer b = message(MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queue, 8);
        attribute(b, CFG_CMD, 4);
        b.put((byte) (bind ? CMD_BIND : CMD_UNBIND)).put((byte) 0).putShort((short) 0);
        return b.array();
    }

    /**
     * @param seq        sequence number
     * @param queue      queue number
     * @param copyRange  bytes of each packet to copy to us (the IPv4 header is 20 to 60)
     * @return the message asking for packet copies
     */
    public static byte[] copyPacket(int seq, int queue, int copyRange) {
        ByteBuffer b = message(MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queue, 12);
        attribute(b, CFG_PARAMS, 5);
        b.order(ByteOrder.BIG_ENDIAN).putInt(copyRange).order(ByteOrder.nativeOrder()).put((byte) COPY_PACKET);
        pad(b);
        return b.array();
    }

    /**
     * @param seq      sequence number
     * @param queue    queue number
     * @param packetId the packet
     * @param verdict  {@link #NF_ACCEPT} or {@link #NF_DROP}
     * @return the verdict message (no ack: verdicts are fire and forget)
     */
    public static byte[] verdict(int seq, int queue, long packetId, int verdict) {
        ByteBuffer b = message(MSG_VERDICT, NLM_F_REQUEST, seq, queue, 12);
        attribute(b, ATTR_VERDICT_HDR, 8);
        b.order(ByteOrder.BIG_ENDIAN).putInt(verdict).putInt((int) packetId).order(ByteOrder.nativeOrder());
        return b.array();
    }

    /**
     * Decodes one datagram (it may hold several netlink messages).
     *
     * @param data   the bytes
     * @param length how many are valid
     * @return the packets and errors it held; malformed parts are skipped
     */
    public static Received decode(byte[] data, int length) {
        ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(ByteOrder.nativeOrder());
        List<Packet> packets = new ArrayList<>();
        List<Integer> errors = new ArrayList<>();
        while (b.remaining() >= 16) {
            int start = b.position();
            int len = b.getInt(start);
            if (len < 16 || len > b.remaining()) {
                break;
            }
            int type = b.getShort(start + 4) & 0xffff;
            if (type == NLMSG_ERROR && len >= 20) {
                errors.add(b.getInt(start + 16));
            } else if (type == ((SUBSYS_QUEUE << 8) | MSG_PACKET) && len >= HEADER) {
                packet(b, start, len).ifPresent(packets::add);
            }
            int next = start + ((len + 3) & ~3);
            if (next >= length) {
                break; // the last message needs no padding
            }
            b.position(next);
        }
        return new Received(packets, errors);
    }

    private static Optional<Packet> packet(ByteBuffer b, int start, int len) {
        int queue = ((b.get(start + 18) & 0xff) << 8) | (b.get(start + 19) & 0xff);
        long id = -1;
        int src = 0;
        int dst = 0;
        int p = start + HEADER;
        int end = start + len;
        while (p + 4 <= end) {
            int alen = b.getShort(p) & 0xffff;
            int atype = b.getShort(p + 2) & 0x3fff; // without the nested and byte-order flags
            if (alen < 4 || p + alen > end) {
                break;
            }
            if (atype == ATTR_PACKET_HDR && alen >= 4 + 4) {
                id = b.order(ByteOrder.BIG_ENDIAN).getInt(p + 4) & 0xffffffffL;
                b.order(ByteOrder.nativeOrder());
            } else if (atype == ATTR_PAYLOAD && alen >= 4 + 20) {
                int version = (b.get(p + 4) & 0xf0) >> 4;
                if (version == 4) {
                    src = b.order(ByteOrder.BIG_ENDIAN).getInt(p + 4 + 12);
                    dst = b.getInt(p + 4 + 16);
                    b.order(ByteOrder.nativeOrder());
                }
            }
            p += (alen + 3) & ~3;
        }
        return id < 0 ? Optional.empty() : Optional.of(new Packet(queue, id, src, dst));
    }
}
