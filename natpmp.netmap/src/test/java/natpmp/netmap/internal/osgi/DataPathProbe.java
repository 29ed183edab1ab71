// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.netmap.internal.net.NfqueueFlowQueue;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Manual end-to-end check of the data path (needs root, iproute2, iptables-nft with xt_NFQUEUE, JNA; not a unit
 * test because of the privileges). Three scratch namespaces: client 192.168.0.10 — router — server 100.64.0.2.
 * The router queues new connections of unbound LAN hosts to NFQUEUE 7; a stand-in backend renders each binding
 * as iptables rules in the router (RETURN before the queue, SNAT, DNAT). The very first UDP datagram of the
 * client must reach the server from 20.0.0.0, and the server must reach the client through 20.0.0.0.
 * All namespaces are deleted at the end.
 */
public final class DataPathProbe {
    private static final int CLONE_NEWNET = 0x40000000;

    interface Ns extends Library {
        int open(String path, int flags);

        int setns(int fd, int nstype);
    }

    /** Renders bindings into the router namespace with iptables (argv lists). */
    private static final class RouterBackend implements FirewallBackend {
        private final String ns;
        private final Set<HostBinding> installed = new HashSet<>();

        RouterBackend(String ns) {
            this.ns = ns;
        }

        @Override
        public String name() {
            return "probe-iptables";
        }

        @Override
        public synchronized void reconcile(String owner, FirewallState desired) throws FirewallException {
            for (HostBinding b : new ArrayList<>(installed)) {
                rules(b, "-D");
            }
            for (HostBinding b : desired.bindings()) {
                rules(b, "-I");
            }
        }

        @Override
        public synchronized void apply(String owner, FirewallChange change) throws FirewallException {
            for (HostBinding b : change.removeBindings()) {
                rules(b, "-D");
            }
            for (HostBinding b : change.addBindings()) {
                rules(b, "-I");
            }
        }

        private void rules(HostBinding b, String op) throws FirewallException {
            String pre = b.internalAddress().getHostAddress();
            String post = b.externalAddress().getHostAddress();
            try {
                ipt(List.of("-t", "filter", op, "nmq", "-s", pre, "-j", "RETURN"));
                ipt(List.of("-t", "nat", op, "POSTROUTING", "-s", pre, "-o", "r1", "-j", "SNAT", "--to-source", post));
                ipt(List.of("-t", "nat", op, "PREROUTING", "-d", post, "-i", "r1", "-j", "DNAT", "--to-destination",
                        pre));
            } catch (Exception e) {
                throw new FirewallException(e.getMessage());
            }
            if (op.equals("-I")) {
                installed.add(b);
            } else {
                installed.remove(b);
            }
        }

        private void ipt(List<String> args) throws Exception {
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "iptables"));
            argv.addAll(args);
            run(argv);
        }

        @Override
        public FirewallState installed(String owner) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void release(String owner) {
        }

        @Override
        public BackendHealth health() {
            throw new UnsupportedOperationException();
        }
    }

    private DataPathProbe() {
    }

    public static void main(String[] args) throws Exception {
        String tag = "nmdp" + ProcessHandle.current().pid();
        String c = tag + "c";
        String r = tag + "r";
        String s = tag + "s";
        List<String> created = new ArrayList<>();
        ExecutorService inC = Executors.newSingleThreadExecutor();
        ExecutorService inR = Executors.newSingleThreadExecutor();
        ExecutorService inS = Executors.newSingleThreadExecutor();
        NetmapRuntime runtime = null;
        try {
            for (String ns : List.of(c, r, s)) {
                run(List.of("ip", "netns", "add", ns));
                created.add(ns);
                run(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
            }
            run(List.of("ip", "-n", c, "link", "add", "c0", "type", "veth", "peer", "name", "r0", "netns", r));
            run(List.of("ip", "-n", s, "link", "add", "s0", "type", "veth", "peer", "name", "r1", "netns", r));
            addr(c, "c0", "192.168.0.10/24");
            addr(r, "r0", "192.168.0.1/24");
            addr(r, "r1", "100.64.0.1/24");
            addr(s, "s0", "100.64.0.2/24");
            run(List.of("ip", "-n", c, "route", "add", "default", "via", "192.168.0.1"));
            run(List.of("ip", "-n", s, "route", "add", "20.0.0.0/30", "via", "100.64.0.1"));
            run(List.of("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1"));
            ipt(r, "-t", "filter", "-N", "nmq");
            ipt(r, "-t", "filter", "-A", "nmq", "-j", "NFQUEUE", "--queue-num", "7");
            ipt(r, "-t", "filter", "-A", "FORWARD", "-s", "192.168.0.0/24", "-m", "conntrack", "--ctstate", "NEW",
                    "-j", "nmq");
            enter(inC, c);
            enter(inR, r);
            enter(inS, s);

            ExecutorService router = inR;
            // conntrack NEW events of the router refresh the bindings (D6)
            runtime = new NetmapRuntime(ManagerSettings.of(600, true, true, false, "r1", true,
                    List.of("ip", "netns", "exec", r, "conntrack", "-E", "-e", "NEW", "-o", "timestamp"), false,
                    OptionalInt.of(7)), Optional.empty(),
                    new NetmapRuntime.Params(() -> System.nanoTime() / 1_000_000, System::currentTimeMillis, 0,
                            3_600_000, 2000, n -> call(router, () -> new NfqueueFlowQueue(n)), 0));
            runtime.ruleAdded("r", RuleSettings.parse("r", 1, "192.168.0.0/24", "20.0.0.0/30", "both", "", false,
                    true, false));
            runtime.backendBound(new RouterBackend(r));

            DatagramSocket server = call(inS, () -> new DatagramSocket(new InetSocketAddress("100.64.0.2", 7777)));
            DatagramSocket client = call(inC, () -> new DatagramSocket(new InetSocketAddress("192.168.0.10", 7778)));
            server.setSoTimeout(5000);
            client.setSoTimeout(5000);
            byte[] hello = "first".getBytes(StandardCharsets.US_ASCII);
            call(inC, () -> {
                client.send(new DatagramPacket(hello, hello.length, InetAddress.getByName("100.64.0.2"), 7777));
                return null;
            });
            DatagramPacket got = new DatagramPacket(new byte[64], 64);
            server.receive(got);
            String firstFrom = got.getAddress().getHostAddress();
            byte[] back = "inbound".getBytes(StandardCharsets.US_ASCII);
            call(inS, () -> {
                server.send(new DatagramPacket(back, back.length, InetAddress.getByName("20.0.0.0"), 7778));
                return null;
            });
            DatagramPacket in = new DatagramPacket(new byte[64], 64);
            client.receive(in);
            long hitBefore = runtime.bindings().get(0).lasthit();
            Thread.sleep(2100); // a probe, not a test: let the monotonic second move on
            DatagramSocket second = call(inC, () -> new DatagramSocket(new InetSocketAddress("192.168.0.10", 7779)));
            call(inC, () -> {
                second.send(new DatagramPacket(hello, hello.length, InetAddress.getByName("100.64.0.2"), 7777));
                return null;
            });
            server.receive(got);
            String secondFrom = got.getAddress().getHostAddress();
            second.close();
            long hitAfter = hitBefore;
            for (int i = 0; i < 50 && hitAfter == hitBefore; i++) {
                Thread.sleep(100);
                hitAfter = runtime.bindings().get(0).lasthit();
            }
            String result = "second connection (bound host, not queued) reached the server from " + secondFrom
                    + "; lasthit " + hitBefore + " -> " + hitAfter + " (conntrack refresh)\n"
                    + "first datagram reached the server from " + firstFrom + "\n"
                    + "server -> 20.0.0.0 reached the client as '"
                    + new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII) + "'\n"
                    + "table:\n" + runtime.procTable("20.0.0.0/30").orElse("");
            System.out.print(result);
            server.close();
            client.close();
            boolean ok = firstFrom.equals("20.0.0.0") && secondFrom.equals("20.0.0.0") && hitAfter > hitBefore;
            System.out.println(ok ? "DATA PATH PROBE OK" : "DATA PATH PROBE FAILED");
        } finally {
            if (runtime != null) {
                runtime.close();
            }
            inC.shutdownNow();
            inR.shutdownNow();
            inS.shutdownNow();
            for (String ns : created) {
                run(List.of("ip", "netns", "del", ns));
            }
        }
    }

    private static void addr(String ns, String dev, String cidr) throws Exception {
        run(List.of("ip", "-n", ns, "addr", "add", cidr, "dev", dev));
        run(List.of("ip", "-n", ns, "link", "set", dev, "up"));
    }

    private static void ipt(String ns, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "iptables"));
        argv.addAll(List.of(args));
        run(argv);
    }

    private static void enter(ExecutorService ex, String ns) throws Exception {
        Ns libc = Native.load("c", Ns.class);
        call(ex, () -> {
            int fd = libc.open("/var/run/netns/" + ns, 0);
            if (fd < 0 || libc.setns(fd, CLONE_NEWNET) != 0) {
                throw new IllegalStateException("cannot enter " + ns);
            }
            return null;
        });
    }

    private static <T> T call(ExecutorService ex, Callable<T> work) {
        try {
            return ex.submit(work).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(argv + " failed: " + out);
        }
    }
}
