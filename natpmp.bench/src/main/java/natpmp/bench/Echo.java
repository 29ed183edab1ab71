// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * The reference ceiling: a trivial UDP server that answers every datagram with a fixed 12-byte opcode-0 reply
 * (RFC 6886 §3.2 layout, external address 0.0.0.0). One thread, one socket, no decoding and no allocation per
 * packet, so whatever the daemon reaches is compared with the best this host, kernel and JVM can do with the
 * same traffic. Runs until killed.
 *
 * <p>Usage: {@code Echo ADDR PORT}
 */
public final class Echo {
    private Echo() {
    }

    /**
     * @param args address and port to bind
     * @throws IOException when the socket cannot be bound or fails
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: Echo ADDR PORT");
            System.exit(2);
        }
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        ByteBuffer reply = ByteBuffer.allocateDirect(Wire.ANNOUNCE_REPLY_LENGTH);
        reply.put((byte) 0).put((byte) Wire.REPLY_BIT).putShort((short) 0).putInt(0).putInt(0).flip();
        ByteBuffer in = ByteBuffer.allocateDirect(1500);
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.bind(bind);
            System.err.println("Echo: listening on " + channel.getLocalAddress());
            while (true) {
                in.clear();
                SocketAddress from = channel.receive(in);
                reply.rewind();
                channel.send(reply, from);
            }
        }
    }
}
