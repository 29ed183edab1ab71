// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.api.Origin;
import natpmp.api.Protocol;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;
import java.util.SplittableRandom;

class PortAllocatorTest {
    static final Inet4Address A = Addresses.parse("192.168.50.10");
    static final Inet4Address B = Addresses.parse("192.168.50.11");

    private final MappingTable table = new MappingTable();
    private final SplittableRandom random = new SplittableRandom(1);

    private PortAllocator allocator(int low, int high, List<PortRange> reserved, GatewayPorts used) {
        return new PortAllocator(new PortRange(low, high), reserved, used, random);
    }

    private void take(Inet4Address c, Protocol p, int in, int ext) {
        table.put(new Lease(new MappingKey(c, p, in), ext, Origin.NATPMP, 60, 1000));
    }

    @Test
    void n12_suggestionHonouredWhenFree() {
        Allocation a = allocator(1024, 65535, List.of(), GatewayPorts.NONE)
                .allocate(table, Permissions.ALLOW_ALL, A, Protocol.TCP, 80, 8080);
        assertThat(a).isEqualTo(Allocation.granted(8080));
    }

    @Test
    void n12_takenSuggestionGetsAnotherPort() {
        take(B, Protocol.TCP, 80, 8080);
        Allocation a = allocator(1024, 65535, List.of(), GatewayPorts.NONE)
                .allocate(table, Permissions.ALLOW_ALL, A, Protocol.TCP, 80, 8080);
        assertThat(a.port()).isEqualTo(8081);
    }

    @Test
    void n11_companionOfOtherClientIsSkipped() {
        take(B, Protocol.UDP, 80, 8080);
        Allocation a = allocator(1024, 65535, List.of(), GatewayPorts.NONE)
                .allocate(table, Permissions.ALLOW_ALL, A, Protocol.TCP, 80, 8080);
        assertThat(a.port()).isEqualTo(8081);
    }

    @Test
    void n12_lowSuggestionShiftedLikeNatpmpd() {
        PortAllocator alloc = allocator(1024, 65535, List.of(), GatewayPorts.NONE);
        assertThat(alloc.startFor(80)).isEqualTo(2080);
        assertThat(alloc.startFor(443)).isEqualTo(2443);
        assertThat(alloc.allocate(table, Permissions.ALLOW_ALL, A, Protocol.TCP, 80, 80).port()).isEqualTo(2080);
    }

    @Test
    void n12_highSuggestionFoldedIntoRange() {
        PortAllocator alloc = allocator(2000, 2999, List.of(), GatewayPorts.NONE);
        assertThat(alloc.startFor(3000)).isEqualTo(2000);
        assertThat(alloc.startFor(3500)).isEqualTo(2500);
        assertThat(alloc.startFor(80)).isEqualTo(2080); // 80 + 3000 = 3080 -> folded
    }

    @RepeatedTest(20)
    void n12_zeroSuggestionPicksHighDynamicPort() {
        Allocation a = allocator(1024, 65535, List.of(), GatewayPorts.NONE)
                .allocate(table, Permissions.ALLOW_ALL, A, Protocol.UDP, 5000, 0);
        assertThat(a.port()).isBetween(PortAllocator.DYNAMIC_LOW, 65535);
    }

    @Test
    void n12_zeroSuggestionInLowRangeStaysInRange() {
        for (int i = 0; i < 50; i++) {
            assertThat(allocator(2000, 2010, List.of(), GatewayPorts.NONE).startFor(0)).isBetween(2000, 2010);
        }
    }

    @Test
    void n32_ownPortsReservedRangesAndGatewayPortsNeverHandedOut() {
        GatewayPorts used = (p, port) -> p == Protocol.TCP && port == 5352; // UDP request: TCP use counts too
        PortAllocator alloc = allocator(5349, 5360, List.of(new PortRange(5353, 5355)), used);
        assertThat(alloc.allocate(table, Permissions.ALLOW_ALL, A, Protocol.UDP, 1, 5350).port()).isEqualTo(5356);
        assertThat(alloc.isExcluded(5351)).isTrue();
        assertThat(alloc.isExcluded(5350)).isTrue();
        assertThat(alloc.isExcluded(5349)).isFalse();
    }

    @Test
    void n12_exhaustedRangeGivesOutOfResources() {
        take(B, Protocol.UDP, 1, 3000);
        take(B, Protocol.UDP, 2, 3001);
        take(B, Protocol.UDP, 3, 3002);
        Allocation a = allocator(3000, 3002, List.of(), GatewayPorts.NONE)
                .allocate(table, Permissions.ALLOW_ALL, A, Protocol.UDP, 9, 3001);
        assertThat(a).isEqualTo(Allocation.refused(ResultCode.OUT_OF_RESOURCES));
    }

    @Test
    void n34_deniedSuggestionTriesNextPort() {
        Permissions p = new Permissions(List.of(PermissionRule.parse("deny 3000-3001 0.0.0.0/0 0-65535")));
        Allocation a = allocator(3000, 3010, List.of(), GatewayPorts.NONE)
                .allocate(table, p, A, Protocol.TCP, 22, 3000);
        assertThat(a.port()).isEqualTo(3002);
    }

    @Test
    void n34_everythingDeniedGivesNotAuthorized() {
        Permissions p = new Permissions(List.of(PermissionRule.parse("deny 0-65535 192.168.50.10 0-65535")));
        Allocation a = allocator(3000, 3010, List.of(), GatewayPorts.NONE)
                .allocate(table, p, A, Protocol.TCP, 22, 3000);
        assertThat(a).isEqualTo(Allocation.refused(ResultCode.NOT_AUTHORIZED));
        assertThat(allocator(3000, 3010, List.of(), GatewayPorts.NONE).allocate(table, p, B, Protocol.TCP, 22, 3000)
                .port()).isEqualTo(3000);
    }

    /** The allocator as it was before it learned to jump over held ports: test every port in walk order. */
    private static Allocation portByPort(PortAllocator alloc, MappingTable t, Permissions perms, Inet4Address c,
            Protocol p, int in, int start) {
        PortRange r = alloc.range();
        boolean denied = false;
        for (int i = 0; i < r.size(); i++) {
            int port = r.low() + Math.floorMod(start - r.low() + i, r.size());
            if (alloc.isExcluded(port) || !t.isAvailable(c, p, in, port)) {
                continue;
            }
            if (!perms.allows(c, port, in)) {
                denied = true;
                continue;
            }
            return Allocation.granted(port);
        }
        return Allocation.refused(denied ? ResultCode.NOT_AUTHORIZED : ResultCode.OUT_OF_RESOURCES);
    }

    @RepeatedTest(20)
    @DisplayName("N11/N12: jumping over held ports gives exactly the port-by-port answer on crowded tables")
    void n12_skippingHeldPortsMatchesPortByPortWalk(RepetitionInfo repetition) {
        SplittableRandom r = new SplittableRandom(repetition.getCurrentRepetition());
        Inet4Address[] clients = {A, B, Addresses.parse("192.168.50.12")};
        int low = 2000;
        int high = 2000 + r.nextInt(20, 200);
        // fill most of the range, both protocols, with companion pairs here and there
        for (int port = low; port <= high; port++) {
            if (r.nextInt(10) < 8) {
                Inet4Address c = clients[r.nextInt(clients.length)];
                Protocol p = r.nextBoolean() ? Protocol.TCP : Protocol.UDP;
                MappingKey k = new MappingKey(c, p, 1000 + port);
                if (table.get(k).isEmpty() && table.isAvailable(c, p, k.internalPort(), port)) {
                    take(c, p, k.internalPort(), port);
                }
                if (r.nextInt(4) == 0 && table.isAvailable(c, p.companion(), k.internalPort(), port)
                        && table.get(new MappingKey(c, p.companion(), k.internalPort())).isEmpty()) {
                    take(c, p.companion(), k.internalPort(), port); // companion held by the same client
                }
            }
        }
        Permissions perms = new Permissions(List.of(PermissionRule.parse("deny " + (low + 5) + "-" + (low + 9)
                + " 0.0.0.0/0 0-65535")));
        PortAllocator alloc = allocator(low, high, List.of(new PortRange(low + 12, low + 14)), GatewayPorts.NONE);
        for (int i = 0; i < 200; i++) {
            Inet4Address c = clients[r.nextInt(clients.length)];
            Protocol p = r.nextBoolean() ? Protocol.TCP : Protocol.UDP;
            int in = r.nextBoolean() ? 1000 + low + r.nextInt(high - low + 1) : 1 + r.nextInt(65535);
            int suggestion = low + r.nextInt(high - low + 1);
            assertThat(alloc.allocate(table, perms, c, p, in, suggestion))
                    .as("%s %s:%d suggesting %d", p, c.getHostAddress(), in, suggestion)
                    .isEqualTo(portByPort(alloc, table, perms, c, p, in, alloc.startFor(suggestion)));
        }
    }
}
