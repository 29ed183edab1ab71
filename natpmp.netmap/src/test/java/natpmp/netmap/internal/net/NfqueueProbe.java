// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.net;

import natpmp.netmap.internal.core.Ipv4;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Manual check of {@link NfqueueFlowQueue} against the kernel (needs root, nft and iproute2; not a unit test
 * because it needs privileges). Creates a scratch network namespace, queues UDP to 127.0.0.1:9999 there,
 * answers the first packet ACCEPT and the second DROP, and checks which datagrams arrived. Only loopback
 * traffic inside its own namespace; the namespace is deleted at the end.
 */
public final class NfqueueProbe {
    private static final int CLONE_NEWNET = 0x40000000;

    interface Ns extends Library {
        int open(String path, int flags);

        int setns(int fd, int nstype);
    }

    private NfqueueProbe() {
    }

    public static void main(String[] args) throws Exception {
        String ns = "nmprobe" + ProcessHandle.current().pid();
        run(List.of("ip", "netns", "add", ns), null);
        ExecutorService inNs = Executors.newSingleThreadExecutor();
        try {
            run(List.of("ip", "-n", ns, "link", "set", "lo", "up"), null);
            // xt_NFQUEUE through iptables-nft: the nft "queue" expression is not built into every kernel
            run(List.of("ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", "9999",
                    "-j", "NFQUEUE", "--queue-num", "7"), null);
            Ns libc = Native.load("c", Ns.class);
            int fd = libc.open("/var/run/netns/" + ns, 0);
            call(inNs, () -> {
                if (libc.setns(fd, CLONE_NEWNET) != 0) {
                    throw new IllegalStateException("setns failed: errno " + Native.getLastError());
                }
                return null;
            });
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            FlowQueue queue = call(inNs, () -> new NfqueueFlowQueue(7));
            int[] count = {0};
            queue.start((id, src, dst) -> {
                seen.add("queued id=" + id + " " + Ipv4.format(src) + " -> " + Ipv4.format(dst));
                queue.verdict(id, count[0]++ == 0 ? FlowQueue.Verdict.ACCEPT : FlowQueue.Verdict.DROP);
            });
            String result = call(inNs, () -> {
                try (DatagramSocket rx = new DatagramSocket(new InetSocketAddress("127.0.0.1", 9999));
                        DatagramSocket tx = new DatagramSocket()) {
                    rx.setSoTimeout(1500);
                    StringBuilder out = new StringBuilder();
                    for (String text : List.of("first", "second")) {
                        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
                        tx.send(new DatagramPacket(b, b.length, InetAddress.getByName("127.0.0.1"), 9999));
                        try {
                            DatagramPacket p = new DatagramPacket(new byte[64], 64);
                            rx.receive(p);
                            out.append("received ").append(new String(p.getData(), 0, p.getLength(),
                                    StandardCharsets.US_ASCII)).append('\n');
                        } catch (SocketTimeoutException e) {
                            out.append("not received: ").append(text).append('\n');
                        }
                    }
                    return out.toString();
                }
            });
            queue.close();
            System.out.print(String.join("\n", seen) + "\n" + result);
            boolean ok = result.equals("received first\nnot received: second\n") && seen.size() == 2;
            System.out.println(ok ? "NFQUEUE PROBE OK" : "NFQUEUE PROBE FAILED");
        } finally {
            inNs.shutdownNow();
            run(List.of("ip", "netns", "del", ns), null);
        }
    }

    private static <T> T call(ExecutorService ex, Callable<T> c) throws Exception {
        return ex.submit(c).get(10, TimeUnit.SECONDS);
    }

    private static void run(List<String> argv, String stdin) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(argv + " failed: " + out);
        }
    }
}
