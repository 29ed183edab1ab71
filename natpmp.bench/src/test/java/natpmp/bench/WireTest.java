// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WireTest {

    @Test
    @DisplayName("RFC 6886 §3.3: map request is 12 bytes, ports and lifetime big-endian")
    void mapRequestLayout() {
        ByteBuffer out = ByteBuffer.allocate(16);
        Wire.mapRequest(out, Wire.OP_MAP_TCP, 0x1234, 0xabcd, 0x01020304L);
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        assertThat(bytes).containsExactly(0, 2, 0, 0, 0x12, 0x34, 0xab - 256, 0xcd - 256, 1, 2, 3, 4);
    }

    @Test
    @DisplayName("RFC 6886 §3.2: opcode 0 request is 2 bytes")
    void announceRequestLayout() {
        ByteBuffer out = ByteBuffer.allocate(16);
        Wire.announceRequest(out);
        assertThat(out.remaining()).isEqualTo(2);
        assertThat(out.get(0)).isZero();
        assertThat(out.get(1)).isZero();
    }

    @Test
    @DisplayName("RFC 6886 §3.3: 16-byte map reply decodes ports and lifetime")
    void mapReplyDecoded() {
        ByteBuffer in = ByteBuffer.wrap(new byte[] {0, (byte) 129, 0, 0, 0, 0, 0, 9, 0x75, 0x30, 0x75, 0x31,
            0, 0, 0x0e, 0x10});
        assertThat(Wire.reply(in)).isEqualTo(new Wire.Reply(129, 0, 30000, 30001, 3600));
    }

    @Test
    @DisplayName("RFC 6886 §3.5: an error reply cut after the header is still an answer")
    void shortErrorReply() {
        ByteBuffer in = ByteBuffer.wrap(new byte[] {0, (byte) 130, 0, 4, 0, 0, 0, 9});
        assertThat(Wire.reply(in)).isEqualTo(new Wire.Reply(130, 4, -1, -1, -1));
    }

    @Test
    @DisplayName("a short success reply or a wrong version is not a reply")
    void junkRejected() {
        assertThat(Wire.reply(ByteBuffer.wrap(new byte[] {0, (byte) 129, 0, 0, 0, 0, 0, 9}))).isNull();
        assertThat(Wire.reply(ByteBuffer.wrap(new byte[] {2, (byte) 128, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4}))).isNull();
        assertThat(Wire.reply(ByteBuffer.wrap(new byte[] {0, (byte) 128}))).isNull();
    }
}
