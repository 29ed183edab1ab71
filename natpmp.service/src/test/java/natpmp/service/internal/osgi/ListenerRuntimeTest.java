// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import static natpmp.service.internal.osgi.Configs.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.MappingSnapshot;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.service.internal.core.Addresses;
import natpmp.service.internal.core.GatewayPorts;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The listener on loopback: LAN 127.0.0.1/29 (clients 127.0.0.2 and .3; 127.0.0.9 is outside), an ephemeral
 * server port, an in-memory backend, a fake external address, announcements to a unicast test socket.
 */
class ListenerRuntimeTest {
    static final Inet4Address EXT = Addresses.parse("203.0.113.1");
    static final Inet4Address EXT2 = Addresses.parse("203.0.113.77");

    @TempDir
    Path dir;

    private final AtomicReference<Optional<Inet4Address>> external = new AtomicReference<>(Optional.of(EXT));
    private final List<DatagramSocket> sockets = new ArrayList<>();
    private DatagramSocket announcements;
    private volatile CountDownLatch addressGate;
    private final CountDownLatch addressEntered = new CountDownLatch(1);
    private ListenerRuntime runtime;
    private InetSocketAddress server;

    @BeforeEach
    void openAnnouncementSink() throws IOException {
        announcements = socket("127.0.0.1");
    }

    @AfterEach
    void close() {
        if (runtime != null) {
            runtime.close();
        }
        sockets.forEach(DatagramSocket::close);
    }

    /** Long by default: the standby tests hold a reconcile for as long as they need. */
    private long swapExclusiveAfterMillis = 60_000;

    private ListenerRuntime start(Object... config) {
        Object[] all = new Object[config.length + 4];
        all[0] = "lan";
        all[1] = new String[] {"127.0.0.1/29"};
        all[2] = "external_interface";
        all[3] = "wan-test";
        System.arraycopy(config, 0, all, 4, config.length);
        ListenerRuntime.Params params = new ListenerRuntime.Params(0,
                new InetSocketAddress(announcements.getLocalAddress(), announcements.getLocalPort()), 20,
                () -> System.nanoTime() / 1_000_000, System::currentTimeMillis, name -> {
                    CountDownLatch gate = addressGate; // lets a test hold the loop thread (the poll runs there)
                    if (gate != null) {
                        addressEntered.countDown();
                        try {
                            gate.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return external.get();
                },
                GatewayPorts.NONE, new SplittableRandom(3)).withSwapExclusiveAfter(swapExclusiveAfterMillis);
        runtime = new ListenerRuntime(ListenerSettings.parse(config(all)), Optional.of(dir.resolve("leases.txt")), params);
        List<InetSocketAddress> bound = runtime.boundAddresses();
        server = bound.isEmpty() ? null : bound.get(0);
        return runtime;
    }

    private DatagramSocket socket(String address) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0));
        s.setSoTimeout(5000);
        sockets.add(s);
        return s;
    }

    private static byte[] exchange(DatagramSocket s, InetSocketAddress to, String hex) throws IOException {
        byte[] req = HexFormat.of().parseHex(hex);
        s.send(new DatagramPacket(req, req.length, to));
        DatagramPacket p = new DatagramPacket(new byte[1200], 1200);
        s.receive(p);
        assertThat(p.getSocketAddress()).as("N15: reply from the address and port the request went to").isEqualTo(to);
        byte[] b = new byte[p.getLength()];
        System.arraycopy(p.getData(), 0, b, 0, b.length);
        return b;
    }

    private static String mapHex(int op, int in, int suggested, long lifetime) {
        return String.format("00%02x0000%04x%04x%08x", op, in, suggested, lifetime);
    }

    private static int u16(byte[] b, int at) {
        return ByteBuffer.wrap(b).getShort(at) & 0xffff;
    }

    private static long u32(byte[] b, int at) {
        return ByteBuffer.wrap(b).getInt(at) & 0xffff_ffffL;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** @return the saved state as text: the snapshot followed by its journal (committed changes since) */
    private String leaseFile() throws IOException {
        Path journal = dir.resolve("leases.txt.journal");
        return Files.readString(dir.resolve("leases.txt"), StandardCharsets.UTF_8)
                + (Files.exists(journal) ? Files.readString(journal, StandardCharsets.UTF_8) : "");
    }

    @Test
    @DisplayName("N9/N13/N15: a mapping is installed for the sender, saved, then answered from the LAN address")
    void n9_mapInstalledSavedAndAnswered() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        DatagramSocket client = socket("127.0.0.2");
        byte[] r = exchange(client, server, mapHex(1, client.getLocalPort(), 40000, 7200));
        assertThat(r).hasSize(16);
        assertThat(r[1] & 0xff).isEqualTo(0x81);
        assertThat(u16(r, 2)).isZero();
        assertThat(u16(r, 10)).isEqualTo(40000);
        assertThat(u32(r, 12)).isEqualTo(7200);
        PortForward f = new PortForward(Protocol.UDP, 40000, Addresses.parse("127.0.0.2"), client.getLocalPort());
        assertThat(backend.forwards()).contains(f); // in the kernel before the reply
        assertThat(leaseFile()).contains("lease udp 127.0.0.2 " + client.getLocalPort() + " 40000 7200 "); // saved before
        // N6: opcode 0
        byte[] a = exchange(client, server, "0000");
        assertThat(HexFormat.of().formatHex(a)).startsWith("00800000").endsWith("cb007101");
        // N14: renewal with another suggestion answered with the same port
        assertThat(u16(exchange(client, server, mapHex(1, client.getLocalPort(), 41000, 60)), 10)).isEqualTo(40000);
        // the receive thread answered the renewal; the loop takes it over within a few milliseconds
        await("snapshot", () -> runtime.snapshot().mappings().size() == 1
                && runtime.snapshot().mappings().get(0).lifetime() == 60);
        MappingSnapshot snap = runtime.snapshot();
        assertThat(snap.externalAddress()).contains(EXT);
        assertThat(snap.backend()).contains("fake");
        assertThat(snap.mappings().get(0).lifetime()).isEqualTo(60);
    }

    @Test
    @DisplayName("N15: senders outside the LAN prefix are ignored")
    void n15_outsideLanIgnored() throws Exception {
        start();
        runtime.backendBound(new FakeBackend("fake"));
        DatagramSocket outsider = socket("127.0.0.9");
        DatagramSocket insider = socket("127.0.0.3");
        byte[] req = HexFormat.of().parseHex("0000");
        outsider.send(new DatagramPacket(req, 2, server));
        exchange(insider, server, "0000"); // handled after the outsider's packet by the single loop
        outsider.setSoTimeout(1);
        assertThatThrownBy(() -> outsider.receive(new DatagramPacket(new byte[64], 64)))
                .isInstanceOf(SocketTimeoutException.class);
    }

    @Test
    @DisplayName("N7/N33/N1/N4: no backend gives 3; malformed packets are dropped; other versions and opcodes answered")
    void n7_noBackendAndOddPackets() throws Exception {
        start();
        DatagramSocket client = socket("127.0.0.2");
        byte[] r = exchange(client, server, mapHex(2, 22, 0, 60));
        assertThat(u16(r, 2)).isEqualTo(3);
        assertThat(u16(r, 8)).isEqualTo(22);
        byte[] junk = {0, 1, 0};
        client.send(new DatagramPacket(junk, junk.length, server)); // N33: dropped, loop survives
        assertThat(HexFormat.of().formatHex(exchange(client, server, "0100"))).startsWith("00800001");
        assertThat(HexFormat.of().formatHex(exchange(client, server, "0017aabb"))).startsWith("00970005");
        external.set(Optional.empty());
        await("address gone", () -> runtime.snapshot().externalAddress().isEmpty());
        assertThat(HexFormat.of().formatHex(exchange(client, server, "0000"))).startsWith("00800003").endsWith("00000000");
    }

    @Test
    @DisplayName("N23: ten-copy burst of the external address on start and again after a change")
    void n23_announcements() throws Exception {
        start();
        byte[] first = receive(announcements);
        assertThat(HexFormat.of().formatHex(first)).startsWith("00800000").endsWith("cb007101").hasSize(24);
        byte[] second = receive(announcements);
        assertThat(second).hasSize(12);
        external.set(Optional.of(EXT2));
        byte[] changed;
        do {
            changed = receive(announcements);
        } while (!HexFormat.of().formatHex(changed).endsWith("cb00714d"));
        assertThat(u16(changed, 2)).isZero();
    }

    /** Sends a request given as hex to the server without waiting for an answer. */
    private void send(DatagramSocket s, String hex) throws IOException {
        byte[] req = HexFormat.of().parseHex(hex);
        s.send(new DatagramPacket(req, req.length, server));
    }

    /** Asserts that nothing arrives on {@code s} within {@code millis}. */
    private static void assertNoAnswer(DatagramSocket s, int millis, String why) throws IOException {
        s.setSoTimeout(millis);
        assertThatThrownBy(() -> receive(s)).as(why).isInstanceOf(SocketTimeoutException.class);
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[64], 64);
        s.receive(p);
        byte[] b = new byte[p.getLength()];
        System.arraycopy(p.getData(), 0, b, 0, b.length);
        return b;
    }

    @Test
    @DisplayName("group commit: renewals are answered from memory while a batch runs; new requests wait for the next")
    void groupCommit() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        await("initial reconcile", () -> backend.calls().contains("reconcile"));
        DatagramSocket a = socket("127.0.0.2");
        DatagramSocket b = socket("127.0.0.3");
        assertThat(u16(exchange(a, server, mapHex(2, 1000, 30000, 600)), 10)).isEqualTo(30000);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = backend.hold(entered);
        byte[] req = HexFormat.of().parseHex(mapHex(2, 2000, 30001, 600));
        b.send(new DatagramPacket(req, req.length, server));
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
        // the batch is blocked in the backend: a renewal still gets its answer
        assertThat(u16(exchange(a, server, mapHex(2, 1000, 0, 600)), 10)).isEqualTo(30000);
        byte[] req2 = HexFormat.of().parseHex(mapHex(2, 2001, 30002, 600));
        b.send(new DatagramPacket(req2, req2.length, server));
        b.send(new DatagramPacket(req, req.length, server)); // retransmission of the blocked one: joins it
        int applies = (int) backend.calls().stream().filter("apply"::equals).count();
        backend.release();
        gate.countDown();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ports.add(u16(receive(b), 10));
        }
        assertThat(ports).containsExactlyInAnyOrder(30001, 30001, 30002);
        assertThat(backend.calls().stream().filter("apply"::equals).count()).isEqualTo(applies + 1L);
        assertThat(backend.forwards()).extracting(PortForward::externalPort).contains(30000, 30001, 30002);
    }

    @Test
    @DisplayName("backend failure: the client gets 3, the table is rolled back, then the whole state is re-applied")
    void backendFailure() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        await("initial reconcile", () -> backend.calls().contains("reconcile"));
        DatagramSocket a = socket("127.0.0.2");
        backend.failing(true);
        byte[] r = exchange(a, server, mapHex(1, 5000, 30000, 600));
        assertThat(u16(r, 2)).isEqualTo(3);
        assertThat(u16(r, 8)).isEqualTo(5000);
        assertThat(u16(r, 10)).isZero();
        backend.failing(false);
        await("retry reconcile", () -> backend.calls().stream().filter("reconcile"::equals).count() >= 2
                && runtime.snapshot().health().map(h -> h.state() == natpmp.api.Health.OK).orElse(false));
        assertThat(u16(exchange(a, server, mapHex(1, 5000, 30000, 600)), 2)).isZero();
    }

    @Test
    @DisplayName("N24/N16: restart restores mappings and continues the epoch; a corrupt file resets it")
    void restartRestoresLeases() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start("static_mappings", new String[] {"tcp 2222 127.0.0.3 22"});
        runtime.backendBound(backend);
        DatagramSocket a = socket("127.0.0.2");
        assertThat(u16(exchange(a, server, mapHex(2, 8080, 38080, 3600)), 10)).isEqualTo(38080);
        runtime.close();
        await("released on stop", () -> !backend.holdsOwner());
        assertThat(leaseFile()).contains("lease tcp 127.0.0.2 8080 38080 3600");

        FakeBackend second = new FakeBackend("second");
        start("static_mappings", new String[] {"tcp 2222 127.0.0.3 22"});
        runtime.backendBound(second);
        await("reconciled", () -> second.forwards().size() == 2);
        assertThat(second.forwards()).contains(new PortForward(Protocol.TCP, 38080, Addresses.parse("127.0.0.2"), 8080),
                new PortForward(Protocol.TCP, 2222, Addresses.parse("127.0.0.3"), 22));
        assertThat(second.topology().orElseThrow().externalAddress()).contains(EXT);
        DatagramSocket c = socket("127.0.0.2");
        assertThat(u16(exchange(c, server, mapHex(2, 8080, 0, 3600)), 10)).as("N14 after restart").isEqualTo(38080);
        runtime.close();
        runtime = null;

        Files.writeString(dir.resolve("leases.txt"), "natpmp-leases 1\nepoch-start 1\nlease tcp");
        start();
        DatagramSocket d = socket("127.0.0.2");
        assertThat(u32(exchange(d, server, "0000"), 4)).as("new epoch").isLessThan(5);
        await("snapshot", () -> runtime.snapshot().mappings().isEmpty());
    }

    @Test
    @DisplayName("N6/N15: opcode 0 is answered by the receive thread even while the loop thread is busy")
    void n6_externalAddressAnsweredWhileLoopBusy() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        DatagramSocket client = socket("127.0.0.2");
        assertThat(u16(exchange(client, server, mapHex(1, 6000, 46000, 600)), 2)).isZero();
        CountDownLatch gate = new CountDownLatch(1);
        addressGate = gate;
        try {
            assertThat(addressEntered.await(10, TimeUnit.SECONDS)).as("loop held by the address poll").isTrue();
            byte[] a = exchange(client, server, "0000");
            assertThat(HexFormat.of().formatHex(a)).startsWith("00800000").endsWith("cb007101");
            byte[] bad = exchange(client, server, "0005");
            assertThat(u16(bad, 2)).as("N4: unsupported opcode").isEqualTo(5);
            // N14: a renewal of a mapping in the kernel is answered at once too, by the receive thread
            assertThat(u16(exchange(client, server, mapHex(1, 6000, 0, 600)), 10)).isEqualTo(46000);
            // a new mapping needs the loop: it waits until the loop is free again
            send(client, mapHex(1, 6001, 46001, 600));
            assertNoAnswer(client, 300, "a new mapping waits for the loop");
        } finally {
            addressGate = null;
            gate.countDown();
        }
        client.setSoTimeout(5000);
        DatagramPacket p = new DatagramPacket(new byte[64], 64);
        client.receive(p);
        assertThat(u16(p.getData(), 10)).as("the new mapping answered once the loop is free").isEqualTo(46001);
        // N15: still nothing for senders outside the LAN subnets
        DatagramSocket outside = socket("127.0.0.9");
        outside.setSoTimeout(300);
        outside.send(new DatagramPacket(new byte[] {0, 0}, 2, server));
        assertThatThrownBy(() -> outside.receive(new DatagramPacket(new byte[64], 64)))
                .isInstanceOf(java.net.SocketTimeoutException.class);
    }

    @Test
    @DisplayName("N24: a mapping answered just before a kill -9 is restored from snapshot plus journal")
    void n24_journalSurvivesKillBeforeAnyCompaction() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        DatagramSocket a = socket("127.0.0.2");
        assertThat(u16(exchange(a, server, mapHex(2, 8080, 38080, 3600)), 10)).isEqualTo(38080);
        assertThat(u16(exchange(a, server, mapHex(2, 8081, 38081, 3600)), 10)).isEqualTo(38081);
        assertThat(u16(exchange(a, server, mapHex(2, 8081, 0, 0)), 2)).isZero(); // deleted again
        // what the disk holds at the moment of the kill: the start-up snapshot and the journal since
        byte[] snapshotAtKill = Files.readAllBytes(dir.resolve("leases.txt"));
        byte[] journalAtKill = Files.readAllBytes(dir.resolve("leases.txt.journal"));
        assertThat(new String(snapshotAtKill, StandardCharsets.UTF_8)).doesNotContain("38080");
        runtime.close();
        Files.write(dir.resolve("leases.txt"), snapshotAtKill);
        Files.write(dir.resolve("leases.txt.journal"), journalAtKill);

        FakeBackend second = new FakeBackend("second");
        start();
        runtime.backendBound(second);
        await("reconciled", () -> !second.forwards().isEmpty());
        assertThat(second.forwards()).containsExactly(
                new PortForward(Protocol.TCP, 38080, Addresses.parse("127.0.0.2"), 8080));
        assertThat(u32(exchange(a, server, "0000"), 4)).as("N16: epoch continues").isLessThan(60);
    }

    @Test
    @DisplayName("N24: the journal is compacted into a new snapshot once it outgrows the table")
    void n24_journalCompactedWhenItOutgrowsTheTable() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start("rate_per_client", 1e9, "rate_burst", 1e9);
        runtime.backendBound(backend);
        String firstSnapshot = Files.readString(dir.resolve("leases.txt"));
        DatagramSocket a = socket("127.0.0.2");
        assertThat(u16(exchange(a, server, mapHex(1, 7000, 47000, 3600)), 10)).isEqualTo(47000); // stays
        for (int i = 0; i < 2500; i++) { // 5000 journal lines: more than the minimum before compaction
            assertThat(u16(exchange(a, server, mapHex(2, 9000, 49000, 3600)), 2)).isZero();
            assertThat(u16(exchange(a, server, mapHex(2, 9000, 0, 0)), 2)).isZero();
        }
        await("compacted", () -> {
            try {
                return !Files.readString(dir.resolve("leases.txt")).equals(firstSnapshot);
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(Files.readString(dir.resolve("leases.txt"))).contains("lease udp 127.0.0.2 7000 47000 3600 ");
        assertThat(Files.size(dir.resolve("leases.txt.journal"))).isLessThan(2500L * 40);
        String journalLine = Files.readString(dir.resolve("leases.txt.journal")).lines().findFirst().orElseThrow();
        assertThat(Files.readString(dir.resolve("leases.txt"))).contains("journal " + journalLine.split(" ")[2]);
    }

    @Test
    @DisplayName("backend swap: the new backend gets everything before the old one is released")
    void backendSwap() throws Exception {
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        start();
        runtime.backendBound(first);
        DatagramSocket a = socket("127.0.0.2");
        exchange(a, server, mapHex(1, 5000, 35000, 600));
        runtime.backendBound(second); // SCR: bind new before unbind old
        runtime.backendUnbound(first);
        await("old released", () -> first.calls().contains("release"));
        assertThat(second.forwards()).extracting(PortForward::externalPort).containsExactly(35000);
        assertThat(first.holdsOwner()).isFalse();
        runtime.backendUnbound(second);
        assertThat(u16(exchange(a, server, mapHex(1, 5001, 0, 600)), 2)).as("no backend: 3").isEqualTo(3);
    }

    /** {@code first} holds mapping udp 5000 -> 35000; {@code second} is bound and its reconcile is held. */
    private CountDownLatch swapWithHeldReconcile(FakeBackend first, FakeBackend second, DatagramSocket a)
            throws Exception {
        start();
        runtime.backendBound(first);
        assertThat(u16(exchange(a, server, mapHex(1, 5000, 35000, 600)), 10)).isEqualTo(35000);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = second.hold(entered);
        runtime.backendBound(second);
        assertThat(entered.await(5, TimeUnit.SECONDS)).as("second reconcile started").isTrue();
        return gate;
    }

    @Test
    @DisplayName("backend swap: while the new backend is reconciled the old one takes the batches; the new one catches up")
    void backendSwapServedByStandby() throws Exception {
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        DatagramSocket a = socket("127.0.0.2");
        CountDownLatch gate = swapWithHeldReconcile(first, second, a);
        runtime.backendUnbound(first); // SCR after a backend.target change: the old backend still works
        // the reconcile of the new backend is blocked: requests are still answered, from the old backend
        assertThat(u16(exchange(a, server, mapHex(1, 5002, 35002, 600)), 10)).isEqualTo(35002);
        assertThat(u16(exchange(a, server, mapHex(1, 5000, 0, 0)), 2)).as("delete during the swap").isZero();
        assertThat(first.forwards()).extracting(PortForward::externalPort).containsExactly(35002);
        assertThat(first.calls()).doesNotContain("release");
        second.release();
        gate.countDown();
        await("old released", () -> first.calls().contains("release"));
        assertThat(second.forwards()).as("the new backend caught up with what the old one got meanwhile")
                .extracting(PortForward::externalPort).containsExactly(35002);
        assertThat(second.calls()).containsSubsequence("reconcile", "apply");
    }

    @Test
    @DisplayName("backend swap: a reconcile that runs long gets the kernel to itself; requests wait for it, then succeed")
    void longSwapJobGetsTheKernelToItself() throws Exception {
        swapExclusiveAfterMillis = 300;
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        DatagramSocket a = socket("127.0.0.2");
        CountDownLatch gate = swapWithHeldReconcile(first, second, a);
        Thread.sleep(400); // the reconcile has now run longer than the limit
        long appliesBefore = first.calls().stream().filter("apply"::equals).count();
        send(a, mapHex(1, 5007, 35007, 600));
        assertNoAnswer(a, 300, "no answer while the reconcile runs");
        assertThat(first.calls().stream().filter("apply"::equals).count()).as("the old backend got no batch")
                .isEqualTo(appliesBefore);
        second.release();
        gate.countDown();
        a.setSoTimeout(5000);
        byte[] r = receive(a);
        assertThat(u16(r, 2)).as("result").isZero();
        assertThat(u16(r, 10)).isEqualTo(35007);
        assertThat(second.forwards()).extracting(PortForward::externalPort).contains(35000, 35007);
        await("old released", () -> first.calls().contains("release"));
    }

    @Test
    @DisplayName("backend swap: a second swap (back again, after a configuration change) is make before break too")
    void secondSwapServedByStandbyToo() throws Exception {
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        DatagramSocket a = socket("127.0.0.2");
        CountDownLatch gate = swapWithHeldReconcile(first, second, a);
        second.release();
        gate.countDown();
        await("first released", () -> first.calls().contains("release"));
        assertThat(u16(exchange(a, server, mapHex(1, 5005, 35005, 600)), 10)).isEqualTo(35005); // second holds it
        runtime.reconfigure(ListenerSettings.parse(config("lan", new String[] {"127.0.0.1/29"}, "external_interface",
                "wan-test")));
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate2 = first.hold(entered);
        runtime.backendBound(first);
        assertThat(entered.await(5, TimeUnit.SECONDS)).as("first reconcile started").isTrue();
        assertThat(u16(exchange(a, server, mapHex(1, 5006, 35006, 600)), 10)).as("answered by the standby")
                .isEqualTo(35006);
        first.release();
        gate2.countDown();
        await("second released", () -> !second.holdsOwner());
        assertThat(first.forwards()).extracting(PortForward::externalPort).contains(35000, 35005, 35006);
    }

    @Test
    @DisplayName("backend swap: a batch the old backend refuses during the swap waits for the new one; no result 3")
    void backendSwapStandbyRefusalIsNotAnError() throws Exception {
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        DatagramSocket a = socket("127.0.0.2");
        CountDownLatch gate = swapWithHeldReconcile(first, second, a);
        first.failing(true); // e.g. going away
        send(a, mapHex(1, 5003, 35003, 600));
        await("the old backend refused the batch", () -> first.calls().stream().filter("apply"::equals).count() >= 2);
        second.release();
        gate.countDown();
        byte[] r = receive(a);
        assertThat(u16(r, 2)).as("result").isZero();
        assertThat(u16(r, 10)).isEqualTo(35003);
        assertThat(second.forwards()).extracting(PortForward::externalPort).containsExactlyInAnyOrder(35000, 35003);
        await("old released", () -> first.calls().contains("release"));
    }

    @Test
    @DisplayName("backend swap: releasing the old backend does not hold up requests")
    void backendSwapReleaseDoesNotBlockRequests() throws Exception {
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        start();
        runtime.backendBound(first);
        DatagramSocket a = socket("127.0.0.2");
        assertThat(u16(exchange(a, server, mapHex(1, 5000, 35000, 600)), 10)).isEqualTo(35000);
        CountDownLatch releaseGate = first.holdRelease();
        runtime.backendBound(second);
        await("second holds the table", () -> second.forwards().size() == 1);
        assertThat(u16(exchange(a, server, mapHex(1, 5004, 35004, 600)), 10)).isEqualTo(35004);
        assertThat(second.forwards()).extracting(PortForward::externalPort).contains(35004);
        releaseGate.countDown();
        await("old released", () -> !first.holdsOwner());
    }

    @Test
    @DisplayName("backend swap: a release of the old backend that runs long makes requests wait for it, then succeed")
    void longReleaseGetsTheKernelToItself() throws Exception {
        swapExclusiveAfterMillis = 300;
        FakeBackend first = new FakeBackend("first");
        FakeBackend second = new FakeBackend("second");
        start();
        runtime.backendBound(first);
        DatagramSocket a = socket("127.0.0.2");
        assertThat(u16(exchange(a, server, mapHex(1, 5000, 35000, 600)), 10)).isEqualTo(35000);
        CountDownLatch releaseGate = first.holdRelease();
        runtime.backendBound(second);
        await("second holds the table", () -> second.forwards().size() == 1);
        Thread.sleep(400); // the release (held) has now run longer than the limit
        send(a, mapHex(1, 5008, 35008, 600));
        assertNoAnswer(a, 300, "no answer while the release runs");
        assertThat(second.forwards()).extracting(PortForward::externalPort).doesNotContain(35008);
        releaseGate.countDown();
        a.setSoTimeout(5000);
        byte[] r = receive(a);
        assertThat(u16(r, 2)).as("result").isZero();
        assertThat(second.forwards()).extracting(PortForward::externalPort).contains(35000, 35008);
    }

    @Test
    @DisplayName("N30/N26: disabling closes port 5351 and removes NAT-PMP mappings; enabling starts a new epoch")
    void n30_disableAndEnable() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        DatagramSocket a = socket("127.0.0.2");
        exchange(a, server, mapHex(1, 5000, 35000, 600));
        runtime.reconfigure(ListenerSettings.parse(config("lan", new String[] {"127.0.0.1/29"},
                "external_interface", "wan-test", "enabled", false)));
        await("flushed", () -> backend.forwards().isEmpty() && runtime.boundAddresses().isEmpty());
        a.connect(server);
        byte[] req = HexFormat.of().parseHex("0000");
        a.send(new DatagramPacket(req, 2, server));
        assertThatThrownBy(() -> a.receive(new DatagramPacket(new byte[64], 64)))
                .isInstanceOf(PortUnreachableException.class);
        a.disconnect();
        runtime.reconfigure(ListenerSettings.parse(config("lan", new String[] {"127.0.0.1/29"},
                "external_interface", "wan-test", "enabled", true)));
        await("listening again", () -> !runtime.boundAddresses().isEmpty());
        server = runtime.boundAddresses().get(0);
        assertThat(u32(exchange(socket("127.0.0.2"), server, "0000"), 4)).isLessThan(5);
    }

    @Test
    @DisplayName("N17: a 1-second mapping is removed from the kernel when it expires")
    void n17_expiry() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        exchange(socket("127.0.0.2"), server, mapHex(1, 5000, 35000, 1));
        assertThat(backend.forwards()).hasSize(1);
        await("expired", () -> backend.forwards().isEmpty());
        await("snapshot", () -> runtime.snapshot().mappings().isEmpty());
    }

    @Test
    void adminDeleteCompletesAfterTheBatch() throws Exception {
        FakeBackend backend = new FakeBackend("fake");
        start();
        runtime.backendBound(backend);
        DatagramSocket a = socket("127.0.0.2");
        exchange(a, server, mapHex(1, 5000, 35000, 600));
        exchange(a, server, mapHex(2, 5000, 35000, 600));
        assertThat(runtime.delete(Addresses.parse("127.0.0.2"), Protocol.UDP, 5000).toCompletableFuture()
                .get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(backend.forwards()).extracting(PortForward::protocol).containsExactly(Protocol.TCP);
        assertThat(runtime.deleteAll(Addresses.parse("127.0.0.2")).toCompletableFuture().get(5, TimeUnit.SECONDS))
                .isEqualTo(1);
        assertThat(backend.forwards()).isEmpty();
    }

    @Test
    void invalidLanRefusedAtStart() {
        assertThatThrownBy(() -> new ListenerRuntime(ListenerSettings.parse(config("lan", new String[] {"198.51.100.1"})),
                Optional.empty(), ListenerRuntime.Params.production()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("198.51.100.1 is not an address of this host");
    }
}
