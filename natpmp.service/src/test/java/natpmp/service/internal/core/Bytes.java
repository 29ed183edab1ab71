// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/** Test helpers: hex fixtures and reading response fields. */
final class Bytes {
    private Bytes() {
    }

    /** Hex with optional spaces and '|' separators between fields. */
    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("[\\s|]", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static int u8(byte[] b, int at) {
        return b[at] & 0xff;
    }

    static int u16(byte[] b, int at) {
        return ByteBuffer.wrap(b).getShort(at) & 0xffff;
    }

    static long u32(byte[] b, int at) {
        return ByteBuffer.wrap(b).getInt(at) & 0xffff_ffffL;
    }

    /** Fields of a 16-byte mapping response. */
    record MapReply(int op, int result, long epoch, int internalPort, int externalPort, long lifetime) {
        static MapReply of(byte[] b) {
            if (b.length != 16 || b[0] != 0) {
                throw new AssertionError("not a mapping response: " + hex(b));
            }
            return new MapReply(u8(b, 1), u16(b, 2), u32(b, 4), u16(b, 8), u16(b, 10), u32(b, 12));
        }
    }
}
