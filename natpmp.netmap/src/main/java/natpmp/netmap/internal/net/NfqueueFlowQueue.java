// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.net;

import natpmp.netmap.internal.core.NfqueueCodec;

import com.sun.jna.Library;
import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link FlowQueue} on a kernel NFQUEUE queue: a raw nfnetlink socket through the C library (JNA, no
 * libnetfilter_queue), the messages from {@link NfqueueCodec}. One reader thread {@code netmap-nfqueue}
 * receives packets and calls the handler; verdicts may come from any thread. Only the first 64 bytes of each
 * packet are copied to us (the IPv4 addresses).
 */
public final class NfqueueFlowQueue implements FlowQueue {
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_RCVBUFFORCE = 33;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int ENOBUFS = 105;
    private static final int COPY_RANGE = 64;
    private static final Logger LOG = LoggerFactory.getLogger(NfqueueFlowQueue.class);

    /** The C functions used; errors come back as {@link LastErrorException}. */
    interface LibC extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] address, int length) throws LastErrorException;

        int setsockopt(int fd, int level, int name, byte[] value, int length) throws LastErrorException;

        long send(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

        long recv(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final int queue;
    private final LibC libc;
    private final int fd;
    private final AtomicInteger seq = new AtomicInteger();
    private volatile boolean closed;
    private Thread reader;

    /**
     * Opens the socket and binds the queue; packets are delivered once {@link #start} was called (until then
     * the kernel holds them).
     *
     * @param queue the queue number 0..65535
     * @throws IllegalStateException with the reason when the queue cannot be bound (not root, taken, no
     *                               nfnetlink_queue module)
     */
    public NfqueueFlowQueue(int queue) {
        if (queue < 0 || queue > 65535) {
            throw new IllegalArgumentException("queue number must be in 0..65535, was " + queue);
        }
        this.queue = queue;
        this.libc = Native.load("c", LibC.class);
        try {
            fd = libc.socket(AF_NETLINK, SOCK_RAW, NfqueueCodec.NETLINK_NETFILTER);
        } catch (LastErrorException e) {
            throw new IllegalStateException("cannot open an nfnetlink socket: errno " + e.getErrorCode(), e);
        }
        try {
            ByteBuffer address = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
            address.putShort((short) AF_NETLINK).putShort((short) 0).putInt(0).putInt(0);
            libc.bind(fd, address.array(), 12);
            ByteBuffer timeout = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(0).putLong(200_000);
            libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout.array(), 16);
            try {
                byte[] size = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(4 << 20).array();
                libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
            } catch (LastErrorException e) {
                LOG.debug("netmap: nfqueue receive buffer stays default: errno {}", e.getErrorCode());
            }
            request(NfqueueCodec.command(seq.incrementAndGet(), queue, true), "bind queue " + queue);
            request(NfqueueCodec.copyPacket(seq.incrementAndGet(), queue, COPY_RANGE), "set copy mode");
        } catch (RuntimeException e) {
            closeFd();
            throw e;
        }
        LOG.info("netmap: NFQUEUE {} bound", queue);
    }

    /** Sends a config message and waits for its acknowledgement. */
    private void request(byte[] message, String what) {
        try {
            libc.send(fd, message, message.length, 0);
        } catch (LastErrorException e) {
            throw new IllegalStateException("NFQUEUE " + what + ": send failed, errno " + e.getErrorCode(), e);
        }
        byte[] buffer = new byte[8192];
        for (int attempt = 0; attempt < 25; attempt++) {
            long n;
            try {
                n = libc.recv(fd, buffer, buffer.length, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EAGAIN || e.getErrorCode() == EINTR) {
                    continue;
                }
                throw new IllegalStateException("NFQUEUE " + what + ": recv failed, errno " + e.getErrorCode(), e);
            }
            NfqueueCodec.Received r = NfqueueCodec.decode(buffer, (int) n);
            if (!r.errors().isEmpty()) {
                int error = r.errors().get(0);
                if (error != 0) {
                    throw new IllegalStateException("NFQUEUE " + what + " refused by the kernel: errno " + -error
                            + (error == -1 ? " (not permitted: needs CAP_NET_ADMIN)" : "")
                            + (error == -16 ? " (queue already bound by another process)" : ""));
                }
                return;
            }
        }
        throw new IllegalStateException("NFQUEUE " + what + ": no answer from the kernel");
    }

    /**
     * @param queue the queue number
     * @return the bound queue
     * @throws IllegalStateException when the queue cannot be bound
     */
    public static FlowQueue open(int queue) {
        return new NfqueueFlowQueue(queue);
    }

    @Override
    public synchronized void start(Handler handler) {
        if (reader != null) {
            throw new IllegalStateException("already started");
        }
        reader = new Thread(() -> read(handler), "netmap-nfqueue");
        reader.setDaemon(true);
        reader.start();
    }

    private void read(Handler handler) {
        byte[] buffer = new byte[65536];
        while (!closed) {
            long n;
            try {
                n = libc.recv(fd, buffer, buffer.length, 0);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == EAGAIN || errno == EINTR) {
                    continue;
                }
                if (errno == ENOBUFS) {
                    // the kernel dropped messages; their packets fall back to the queue's bypass/drop policy
                    LOG.warn("netmap: NFQUEUE {} overran; some first packets were lost", queue);
                    continue;
                }
                if (!closed) {
                    LOG.error("netmap: NFQUEUE {} receive failed, errno {}; queue stops", queue, errno);
                }
                return;
            }
            for (NfqueueCodec.Packet p : NfqueueCodec.decode(buffer, (int) n).packets()) {
                if (p.source() == 0) {
                    verdict(p.packetId(), Verdict.ACCEPT); // not IPv4
                } else {
                    try {
                        handler.queued(p.packetId(), p.source(), p.destination());
                    } catch (RuntimeException e) {
                        LOG.error("netmap: NFQUEUE handler failed; accepting packet {}", p.packetId(), e);
                        verdict(p.packetId(), Verdict.ACCEPT);
                    }
                }
            }
        }
    }

    @Override
    public void verdict(long packetId, Verdict verdict) {
        if (closed) {
            return;
        }
        byte[] message = NfqueueCodec.verdict(seq.incrementAndGet(), queue, packetId,
                verdict == Verdict.ACCEPT ? NfqueueCodec.NF_ACCEPT : NfqueueCodec.NF_DROP);
        try {
            libc.send(fd, message, message.length, 0);
        } catch (LastErrorException e) {
            LOG.warn("netmap: NFQUEUE {} verdict for packet {} failed, errno {}", queue, packetId, e.getErrorCode());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Thread r;
        synchronized (this) {
            r = reader;
        }
        if (r != null) {
            try {
                r.join(2000); // the receive timeout wakes it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            byte[] unbind = NfqueueCodec.command(seq.incrementAndGet(), queue, false);
            libc.send(fd, unbind, unbind.length, 0);
        } catch (LastErrorException e) {
            LOG.debug("netmap: NFQUEUE {} unbind failed, errno {}", queue, e.getErrorCode());
        }
        closeFd();
        LOG.info("netmap: NFQUEUE {} released", queue);
    }

    private void closeFd() {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            LOG.debug("netmap: close failed, errno {}", e.getErrorCode());
        }
    }
}
