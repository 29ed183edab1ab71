// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static natpmp.netmap.internal.core.Rules.ip;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

class NfqueueCodecTest {
    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** The fields in host order, written out per byte order so the test holds on any machine. */
    private static String nl(int len, int type, int flags, int seq) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        b.putInt(len).putShort((short) type).putShort((short) flags).putInt(seq).putInt(0);
        return hex(b.array());
    }

    private static String u16(int v) {
        ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.nativeOrder());
        return hex(b.putShort((short) v).array());
    }

    @Test
    void d4_bindCommandAndCopyModeMessages() {
        // nfgenmsg: AF_UNSPEC, v0, queue 7 big-endian; attr NFQA_CFG_CMD len 8: BIND, pad, pf 0
        assertThat(hex(NfqueueCodec.command(1, 7, true))).isEqualTo(
                nl(28, 0x0302, 0x0005, 1) + "00000007" + u16(8) + u16(1) + "01000000");
        // attr NFQA_CFG_PARAMS len 9: copy_range 64 big-endian, mode PACKET, 3 bytes padding
        assertThat(hex(NfqueueCodec.copyPacket(2, 7, 64))).isEqualTo(
                nl(32, 0x0302, 0x0005, 2) + "00000007" + u16(9) + u16(2) + "00000040" + "02000000");
    }

    @Test
    void d4_verdictMessage() {
        assertThat(hex(NfqueueCodec.verdict(3, 7, 0x01020304L, NfqueueCodec.NF_ACCEPT))).isEqualTo(
                nl(32, 0x0301, 0x0001, 3) + "00000007" + u16(12) + u16(2) + "00000001" + "01020304");
    }

    @Test
    void d4_packetMessageYieldsIdAndIpv4Addresses() {
        ByteBuffer b = ByteBuffer.allocate(200).order(ByteOrder.nativeOrder());
        int len = 16 + 4 + 12 + 4 + 28 + 8;
        b.putInt(len).putShort((short) 0x0300).putShort((short) 0).putInt(0).putInt(0);
        b.put((byte) 2).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putShort((short) 7).order(ByteOrder.nativeOrder());
        // NFQA_PACKET_HDR: id 42, hw_protocol 0x0800, hook 1 (+1 pad)
        b.putShort((short) 11).putShort((short) 1);
        b.order(ByteOrder.BIG_ENDIAN).putInt(42).putShort((short) 0x0800).order(ByteOrder.nativeOrder())
                .put((byte) 1).put((byte) 0);
        // NFQA_PAYLOAD: 28 bytes of an IPv4/UDP packet
        b.putShort((short) 32).putShort((short) 10);
        byte[] ip = new byte[28];
        ip[0] = 0x45;
        ByteBuffer.wrap(ip).putInt(12, ip("192.168.0.10")).putInt(16, ip("8.8.8.8"));
        b.put(ip);
        // an unknown attribute with the nested flag is skipped
        b.putShort((short) 8).putShort((short) (0x8000 | 11)).putInt(0);
        // followed by an acknowledgement
        b.putInt(36).putShort((short) 2).putShort((short) 0).putInt(1).putInt(0).putInt(0).put(new byte[16]);

        NfqueueCodec.Received r = NfqueueCodec.decode(b.array(), b.position());

        assertThat(r.packets()).containsExactly(new NfqueueCodec.Packet(7, 42, ip("192.168.0.10"), ip("8.8.8.8")));
        assertThat(r.errors()).containsExactly(0);
    }

    @Test
    void d4_aLastMessageWithoutPaddingIsDecoded() {
        // as the kernel sends it: a packet message of 77 bytes ending the datagram (payload not padded)
        ByteBuffer b = ByteBuffer.allocate(77).order(ByteOrder.nativeOrder());
        b.putInt(77).putShort((short) 0x0300).putShort((short) 0).putInt(0).putInt(0);
        b.put((byte) 2).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putShort((short) 7).order(ByteOrder.nativeOrder());
        b.putShort((short) 11).putShort((short) 1).order(ByteOrder.BIG_ENDIAN).putInt(5).putShort((short) 0x0800)
                .order(ByteOrder.nativeOrder()).put((byte) 3).put((byte) 0);
        b.putShort((short) 33).putShort((short) 10);
        byte[] ip = new byte[29];
        ip[0] = 0x45;
        ByteBuffer.wrap(ip).putInt(12, ip("127.0.0.1")).putInt(16, ip("127.0.0.2"));
        b.put(ip);

        assertThat(NfqueueCodec.decode(b.array(), 77).packets())
                .containsExactly(new NfqueueCodec.Packet(7, 5, ip("127.0.0.1"), ip("127.0.0.2")));
    }

    @Test
    void d4_truncatedDataYieldsNothing() {
        byte[] junk = new byte[40];
        ByteBuffer.wrap(junk).order(ByteOrder.nativeOrder()).putInt(400);

        assertThat(NfqueueCodec.decode(junk, junk.length).packets()).isEmpty();
    }
}
