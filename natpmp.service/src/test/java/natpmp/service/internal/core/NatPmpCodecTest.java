// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static natpmp.service.internal.core.Bytes.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.SplittableRandom;

class NatPmpCodecTest {

    private static Request decode(String hex) throws MalformedPacketException {
        return NatPmpCodec.decode(ByteBuffer.wrap(hex(hex)));
    }

    // ---------------------------------------------------------------- requests (RFC 6886 §3.2, §3.3 diagrams)

    @Test
    @DisplayName("N6: opcode 0 request is Vers=0 | OP=0 (2 bytes)")
    void n6_externalAddressRequest() throws Exception {
        assertThat(decode("00|00")).isEqualTo(new ExternalAddressRequest());
    }

    @Test
    @DisplayName("N8: UDP map request Vers | OP=1 | Reserved | Internal Port | Suggested External Port | Lifetime")
    void n8_udpMapRequest() throws Exception {
        Request r = decode("00|01|0000|1388|1389|00001c20"); // 5000, 5001, 7200
        assertThat(r).isEqualTo(new MapRequest(Protocol.UDP, 5000, 5001, 7200));
    }

    @Test
    @DisplayName("N8: TCP map request, opcode 2")
    void n8_tcpMapRequest() throws Exception {
        assertThat(decode("00|02|0000|0016|0000|00000e10")).isEqualTo(new MapRequest(Protocol.TCP, 22, 0, 3600));
    }

    @Test
    @DisplayName("N8: a non-zero reserved field is ignored")
    void n8_reservedFieldIgnored() throws Exception {
        assertThat(decode("00|01|beef|1388|0000|00000001")).isEqualTo(new MapRequest(Protocol.UDP, 5000, 0, 1));
    }

    @Test
    @DisplayName("N17: lifetime is unsigned 32-bit (0xffffffff = 4294967295)")
    void n17_lifetimeUnsigned() throws Exception {
        MapRequest r = (MapRequest) decode("00|02|0000|ffff|ffff|ffffffff");
        assertThat(r.requestedLifetime()).isEqualTo(4_294_967_295L);
        assertThat(r.internalPort()).isEqualTo(65535);
        assertThat(r.suggestedExternalPort()).isEqualTo(65535);
    }

    @Test
    @DisplayName("N18/N20: delete and delete-all requests are recognised")
    void n18_n20_deleteFlags() throws Exception {
        MapRequest delete = (MapRequest) decode("00|01|0000|1388|1389|00000000");
        MapRequest all = (MapRequest) decode("00|02|0000|0000|0000|00000000");
        assertThat(delete.isDelete()).isTrue();
        assertThat(delete.isDeleteAll()).isFalse();
        assertThat(all.isDeleteAll()).isTrue();
    }

    @Test
    @DisplayName("trailing bytes after a complete request are ignored (documented leniency)")
    void trailingBytesIgnored() throws Exception {
        assertThat(decode("00|00|ffff")).isEqualTo(new ExternalAddressRequest());
        assertThat(decode("00|01|0000|1388|0000|00000001|aabbcc")).isEqualTo(new MapRequest(Protocol.UDP, 5000, 0, 1));
    }

    @Test
    @DisplayName("N33: 0- and 1-byte packets and 11-byte map requests are malformed")
    void n33_shortPacketsMalformed() {
        assertThatThrownBy(() -> decode("")).isInstanceOf(MalformedPacketException.class);
        assertThatThrownBy(() -> decode("00")).isInstanceOf(MalformedPacketException.class);
        assertThatThrownBy(() -> decode("00|01|0000|1388|1389|00001c")).isInstanceOf(MalformedPacketException.class)
                .hasMessageContaining("11 bytes");
        assertThatThrownBy(() -> decode("00|02")).isInstanceOf(MalformedPacketException.class);
    }

    @Test
    @DisplayName("N1/N2: version 1, 2 (PCP) and 0x17 are unsupported versions")
    void n1_unsupportedVersions() throws Exception {
        assertThat(decode("01|00")).isEqualTo(new UnsupportedVersion(1, 0));
        assertThat(decode("17|02")).isEqualTo(new UnsupportedVersion(0x17, 2));
        assertThat(decode("02|01" + "00".repeat(58))).isEqualTo(new UnsupportedVersion(2, 1));
    }

    @Test
    @DisplayName("N3: opcodes 128 and above are responses and ignored")
    void n3_responsesIgnored() throws Exception {
        assertThat(decode("00|80")).isEqualTo(new ResponseIgnored(0x80));
        assertThat(decode("00|81|0000|00000000|1388|1388|00000000")).isEqualTo(new ResponseIgnored(0x81));
    }

    @Test
    @DisplayName("N4: other opcodes below 128 keep the whole request")
    void n4_unsupportedOpcode() throws Exception {
        Request r = decode("00|17|0102|03040506|0708|090a");
        assertThat(r).isEqualTo(new UnsupportedOpcode(0x17, hex("00170102030405060708090a")));
    }

    @Test
    void decodeConsumesThePacket() throws Exception {
        ByteBuffer b = ByteBuffer.wrap(hex("00|00"));
        NatPmpCodec.decode(b);
        assertThat(b.hasRemaining()).isFalse();
    }

    // ---------------------------------------------------------------- responses

    @Test
    @DisplayName("N6: external address response Vers | OP=128 | Result | SSSoE | External IPv4 (12 bytes)")
    void n6_externalAddressResponse() {
        byte[] b = NatPmpCodec.encode(new ExternalAddressResponse(ResultCode.SUCCESS, 0x01020304L,
                Optional.of(Addresses.parse("203.0.113.1"))));
        assertThat(hex(b)).isEqualTo("00" + "80" + "0000" + "01020304" + "cb007101");
    }

    @Test
    @DisplayName("N6/N7: address is 0.0.0.0 when the result is not success")
    void n6_failureSendsZeroAddress() {
        byte[] b = NatPmpCodec.encode(new ExternalAddressResponse(ResultCode.NETWORK_FAILURE, 5,
                Optional.of(Addresses.parse("203.0.113.1"))));
        assertThat(hex(b)).isEqualTo("00" + "80" + "0003" + "00000005" + "00000000");
    }

    @Test
    @DisplayName("N23: announcement is a gratuitous opcode-128 success")
    void n23_announcement() {
        assertThat(hex(NatPmpCodec.announcement(7, Addresses.parse("198.51.100.9"))))
                .isEqualTo("00|80|0000|00000007|c6336409".replace("|", ""));
    }

    @Test
    @DisplayName("N9: UDP map response Vers | OP=129 | Result | SSSoE | Internal | Mapped External | Lifetime (16 bytes)")
    void n9_udpMapResponse() {
        byte[] b = NatPmpCodec.encode(new MapResponse(Protocol.UDP, ResultCode.SUCCESS, 60, 5000, 51000, 7200));
        assertThat(hex(b)).isEqualTo("00|81|0000|0000003c|1388|c738|00001c20".replace("|", ""));
    }

    @Test
    @DisplayName("N9: TCP map response uses opcode 130")
    void n9_tcpMapResponse() {
        byte[] b = NatPmpCodec.encode(new MapResponse(Protocol.TCP, ResultCode.SUCCESS, 1, 22, 2222, 4_294_967_295L));
        assertThat(hex(b)).isEqualTo("00|82|0000|00000001|0016|08ae|ffffffff".replace("|", ""));
    }

    @ParameterizedTest
    @EnumSource(ResultCode.class)
    @DisplayName("N21/N22: every result code is written big-endian in bytes 2..3 of a failure reply")
    void n22_everyResultCode(ResultCode rc) {
        byte[] b = NatPmpCodec.encode(new MapResponse(Protocol.TCP, rc, 9, 8080, 0, 0));
        assertThat(Bytes.u16(b, 2)).isEqualTo(rc.code());
        assertThat(ResultCode.of(rc.code())).isEqualTo(rc);
        assertThat(hex(b)).isEqualTo(String.format("0082%04x000000091f90000000000000", rc.code()));
    }

    @Test
    @DisplayName("N22: result codes are exactly 0..5")
    void n22_resultCodeValues() {
        assertThat(ResultCode.values()).extracting(ResultCode::code).containsExactly(0, 1, 2, 3, 4, 5);
        assertThatThrownBy(() -> ResultCode.of(6)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("N1: unsupported version reply is 8 bytes, version 0, opcode 128 (erratum 3618), result 1")
    void n1_unsupportedVersionReply() {
        assertThat(hex(NatPmpCodec.encode(new UnsupportedVersionResponse(300)))).isEqualTo("00800001" + "0000012c");
    }

    @Test
    @DisplayName("N4: unsupported opcode echoes the request with OP|0x80, result 5 and SSSoE")
    void n4_unsupportedOpcodeEcho() {
        byte[] request = hex("00|17|aaaa|bbbbbbbb|0708|090a");
        byte[] b = NatPmpCodec.encode(new UnsupportedOpcodeResponse(2, request));
        assertThat(hex(b)).isEqualTo("00|97|0005|00000002|0708|090a".replace("|", ""));
    }

    @Test
    @DisplayName("N4: a 2-byte unsupported opcode request is padded to the 8-byte error header")
    void n4_shortRequestPadded() {
        byte[] b = NatPmpCodec.encode(new UnsupportedOpcodeResponse(1, hex("0003")));
        assertThat(hex(b)).isEqualTo("0083000500000001");
    }

    @Test
    @DisplayName("N4: echo is cut at 1100 bytes")
    void n4_echoBounded() {
        byte[] big = new byte[1500];
        big[1] = 0x10;
        assertThat(NatPmpCodec.encode(new UnsupportedOpcodeResponse(0, big))).hasSize(NatPmpCodec.MAX_ECHO);
    }

    @Test
    @DisplayName("N5/N16: SSSoE is sent modulo 2^32")
    void n16_epochWraps() {
        byte[] b = NatPmpCodec.encode(new UnsupportedVersionResponse(0x1_0000_0002L));
        assertThat(Bytes.u32(b, 4)).isEqualTo(2);
    }

    @Test
    void encodeIntoBufferAtPosition() {
        ByteBuffer out = ByteBuffer.allocate(20);
        out.put((byte) 0x55);
        NatPmpCodec.encode(new UnsupportedVersionResponse(1), out);
        assertThat(out.position()).isEqualTo(9);
        assertThat(out.get(0)).isEqualTo((byte) 0x55);
    }

    @Test
    void responseValuesCheckRanges() {
        assertThatThrownBy(() -> new MapResponse(Protocol.UDP, ResultCode.SUCCESS, 0, 70000, 1, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MapRequest(Protocol.UDP, 1, 1, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- fuzz

    @Test
    @DisplayName("N33: 100k random packets never make the decoder throw unchecked; every request re-encodes")
    void n33_fuzzNeverThrowsUnchecked() {
        SplittableRandom random = new SplittableRandom(6886);
        int malformed = 0;
        int decoded = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] packet = new byte[random.nextInt(0, 40)];
            for (int j = 0; j < packet.length; j++) {
                packet[j] = (byte) random.nextInt(256);
            }
            if (packet.length > 0 && random.nextBoolean()) {
                packet[0] = 0; // steer half of them into version 0 so every opcode path is hit
            }
            try {
                Request r = NatPmpCodec.decode(ByteBuffer.wrap(packet));
                decoded++;
                if (r instanceof UnsupportedOpcode u) {
                    assertThat(NatPmpCodec.encode(new UnsupportedOpcodeResponse(i, u.request()))).hasSizeGreaterThanOrEqualTo(8);
                }
            } catch (MalformedPacketException e) {
                malformed++;
            }
        }
        assertThat(decoded + malformed).isEqualTo(100_000);
        assertThat(malformed).isPositive();
        assertThat(decoded).isPositive();
    }
}
