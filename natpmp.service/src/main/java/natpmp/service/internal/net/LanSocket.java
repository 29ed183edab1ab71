// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import natpmp.api.LanNetwork;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.RejectedExecutionException;

/**
 * One listening socket on a LAN address (N15: bound to that address, so replies leave from it, port 5351)
 * and its receive thread. The thread reads datagrams and hands them to the sink, which answers table-free
 * requests itself (through {@link #send}, which is safe to call from any thread) and queues the rest onto the
 * event loop; it ends when the socket is closed. Announcements go out of the same socket with
 * {@code IP_MULTICAST_IF} set to the LAN interface and TTL 1, so they never leave through the external side.
 */
public final class LanSocket implements AutoCloseable {
    /** Receive buffer: larger than any NAT-PMP request, as large as a PCP message may be (RFC 6887 §7). */
    public static final int RECEIVE_BUFFER = 1100;

    private static final Logger LOG = LoggerFactory.getLogger(LanSocket.class);

    /** Receives datagrams; called on the receive thread. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param socket the socket it arrived on
         * @param sender who sent it
         * @param data   the datagram
         */
        void received(LanSocket socket, InetSocketAddress sender, byte[] data);
    }

    private final LanNetwork lan;
    private final DatagramChannel channel;
    private final Thread thread;
    private final boolean multicastReady;

    private LanSocket(LanNetwork lan, DatagramChannel channel, Sink sink, boolean multicastReady) {
        this.lan = lan;
        this.channel = channel;
        this.multicastReady = multicastReady;
        this.thread = new Thread(() -> receiveLoop(sink), "natpmp-recv-" + lan.address().getHostAddress());
        this.thread.setDaemon(true);
    }

    /**
     * Binds {@code lan.address():port} and starts the receive thread.
     *
     * @param lan  the LAN network
     * @param port the port (5351; tests may pass 0 for an ephemeral one)
     * @param sink where datagrams go
     * @return the open socket
     * @throws IOException if the address cannot be bound
     */
    public static LanSocket open(LanNetwork lan, int port, Sink sink) throws IOException {
        DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.bind(new InetSocketAddress(lan.address(), port));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot bind " + lan.address().getHostAddress() + ":" + port + ": " + e.getMessage(), e);
        }
        boolean multicast = false;
        try {
            NetworkInterface nif = NetworkInterface.getByName(lan.interfaceName());
            if (nif != null) {
                ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, nif);
                ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 1); // link-local group 224.0.0.1
                multicast = true;
            }
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("NAT-PMP: cannot send announcements on {} ({}): {}", lan.interfaceName(),
                    lan.address().getHostAddress(), e.getMessage());
        }
        LanSocket s = new LanSocket(lan, ch, sink, multicast);
        s.thread.start();
        return s;
    }

    /** @return the LAN this socket serves */
    public LanNetwork lan() {
        return lan;
    }

    /** @return the locally bound port */
    public int localPort() {
        try {
            SocketAddress a = channel.getLocalAddress();
            return a instanceof InetSocketAddress isa ? isa.getPort() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** @return whether announcements can be sent from this socket */
    public boolean multicastReady() {
        return multicastReady;
    }

    /**
     * Sends one datagram from this socket's address.
     *
     * @param data   the datagram
     * @param target where to
     * @throws IOException if sending failed
     */
    public void send(byte[] data, InetSocketAddress target) throws IOException {
        channel.send(ByteBuffer.wrap(data), target);
    }

    private void receiveLoop(Sink sink) {
        ByteBuffer buf = ByteBuffer.allocate(RECEIVE_BUFFER);
        while (channel.isOpen()) {
            try {
                buf.clear();
                SocketAddress from = channel.receive(buf);
                buf.flip();
                if (from instanceof InetSocketAddress sender && sender.getAddress() instanceof Inet4Address) {
                    byte[] data = new byte[buf.remaining()];
                    buf.get(data);
                    sink.received(this, sender, data);
                }
            } catch (ClosedChannelException e) {
                break; // closed by close(): normal end
            } catch (RejectedExecutionException e) {
                break; // the loop is shutting down
            } catch (IOException | RuntimeException e) {
                // never let the receive thread die on a bad datagram or a transient error
                LOG.warn("NAT-PMP: receive on {} failed: {}", lan.address().getHostAddress(), e.toString());
            } catch (OutOfMemoryError e) {
                // a full heap is usually a passing peak (a large listing, a compaction): drop this datagram, the
                // client retransmits; a dead receive thread would silence the gateway for good
                LOG.error("NAT-PMP: out of memory while receiving on {}; datagram dropped",
                        lan.address().getHostAddress());
            }
        }
    }

    /** Closes the socket (which ends the receive thread) and waits briefly for the thread. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("NAT-PMP: closing {} failed", lan.address().getHostAddress(), e);
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return lan.address().getHostAddress() + ":" + localPort() + " (" + lan.interfaceName() + ")";
    }
}
