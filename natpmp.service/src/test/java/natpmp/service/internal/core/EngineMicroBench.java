// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.Protocol;
import natpmp.service.internal.core.LeaseFile.StoredLease;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Not a test: prints the cost per operation of the pure core with a table of 10,000 mappings (8 clients),
 * so that changes can be compared without the network. Nothing is asserted. Run with
 * {@code java -cp target/classes:target/test-classes:<deps> natpmp.service.internal.core.EngineMicroBench}.
 */
public final class EngineMicroBench {
    private static final int MAPPINGS = 10_000;
    private static final int CLIENTS = 8;

    private EngineMicroBench() {
    }

    /**
     * @param args ignored
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        for (int round = 0; round < 3; round++) { // the first rounds warm the JIT up
            System.out.println("round " + round);
            once();
        }
    }

    private static void once() throws Exception {
        long now = 1_000_000;
        EngineSettings s = new EngineSettings(new PortRange(1024, 65535), List.of(), new LifetimePolicy(1, 86400),
                100_000, 100_000, 1e12, 1e12, Permissions.ALLOW_ALL);
        System.gc();
        long heapBefore = usedHeap();
        NatPmpEngine engine = new NatPmpEngine(s, GatewayPorts.NONE, new SplittableRandom(1), now);
        engine.setExternalAddress(java.util.Optional.of(Addresses.parse("203.0.113.1")));
        engine.setBackendAvailable(true);
        Inet4Address[] clients = new Inet4Address[CLIENTS];
        for (int c = 0; c < CLIENTS; c++) {
            clients[c] = Addresses.parse("192.168.1." + (10 + c));
        }
        int per = MAPPINGS / CLIENTS;
        long t0 = System.nanoTime();
        for (int i = 0; i < MAPPINGS; i++) {
            Request r = decode(map(1, 20000 + i / CLIENTS, 20000 + i / CLIENTS, 3600));
            Outcome o = engine.handle(clients[i % CLIENTS], r, now);
            engine.committed(List.of(((Outcome.Pending) o).ticket()), now);
        }
        report("create+commit (filling to 10k)", t0, MAPPINGS);
        System.gc();
        System.out.printf("  heap per mapping: ~%d bytes%n", (usedHeap() - heapBefore) / MAPPINGS);

        int n = 200_000;
        byte[] op0 = {0, 0};
        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            engine.handle(clients[i % CLIENTS], decode(op0), now);
        }
        report("opcode 0 (decode+handle+encode)", t0, n);

        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int p = 20000 + (i / CLIENTS) % per;
            engine.handle(clients[i % CLIENTS], decode(map(1, p, p, 3600)), now + i);
        }
        report("renew (decode+handle+encode)", t0, n);
        t0 = System.nanoTime();
        List<Lease> renewed = engine.drainRenewed();
        report("drain renewed (" + renewed.size() + ")", t0, 1);

        int m = 20_000;
        t0 = System.nanoTime();
        for (int i = 0; i < m; i++) {
            Inet4Address c = clients[i % CLIENTS];
            Outcome o = engine.handle(c, decode(map(2, 10000, 10000, 3600)), now);
            engine.committed(List.of(((Outcome.Pending) o).ticket()), now);
            o = engine.handle(c, decode(map(2, 10000, 0, 0)), now);
            engine.committed(List.of(((Outcome.Pending) o).ticket()), now);
        }
        report("map+delete pair (handle+commit each)", t0, m);

        long wall = 1_700_000_000_000L;
        t0 = System.nanoTime();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < m; i++) {
            Lease l = engine.lease(new MappingKey(clients[i % CLIENTS], Protocol.UDP, 20000 + i % per)).orElseThrow();
            b.setLength(0);
            LeaseCodec.appendLease(b, new StoredLease(l.key(), l.externalPort(), l.lifetime(), wall + l.expiresAt()));
        }
        report("journal line (after: per change)", t0, m);

        int k = 20;
        t0 = System.nanoTime();
        int bytes = 0;
        for (int i = 0; i < k; i++) {
            List<StoredLease> stored = new ArrayList<>();
            for (Lease l : engine.leases()) {
                stored.add(new StoredLease(l.key(), l.externalPort(), l.lifetime(), wall + l.expiresAt()));
            }
            bytes = LeaseCodec.format(new LeaseFile(wall, stored)).length();
        }
        report("whole lease file text, 10k (before: per batch, plus fsync of " + bytes / 1024 + " KiB)", t0, k);

        t0 = System.nanoTime();
        for (int i = 0; i < k; i++) {
            engine.leases();
        }
        report("table copy for a compaction / snapshot", t0, k);
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static Request decode(byte[] b) throws MalformedPacketException {
        return NatPmpCodec.decode(ByteBuffer.wrap(b));
    }

    private static byte[] map(int op, int in, int ext, long lifetime) {
        return ByteBuffer.allocate(12).put((byte) 0).put((byte) op).putShort((short) 0).putShort((short) in)
                .putShort((short) ext).putInt((int) lifetime).array();
    }

    private static void report(String what, long startNanos, int ops) {
        double ns = (System.nanoTime() - startNanos) / (double) ops;
        System.out.printf("  %-70s %10.0f ns/op%n", what, ns);
    }
}
