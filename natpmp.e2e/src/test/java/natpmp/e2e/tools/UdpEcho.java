// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e.tools;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

/**
 * A one-thread UDP echo server for the benchmarks, run as its own JVM inside a lab namespace: every datagram goes
 * back to its sender unchanged. {@code UdpEcho PORT}; prints {@code READY} once bound; runs until killed.
 */
public final class UdpEcho {
    private static final int MAX_DATAGRAM = 2048;

    private UdpEcho() {
    }

    /**
     * @param args the port
     * @throws IOException if the socket fails
     */
    public static void main(String[] args) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(Integer.parseInt(args[0])))) {
            System.out.println("READY");
            System.out.flush();
            byte[] buffer = new byte[MAX_DATAGRAM];
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            while (true) {
                packet.setLength(buffer.length);
                socket.receive(packet);
                socket.send(packet); // back to packet.getSocketAddress()
            }
        }
    }
}
