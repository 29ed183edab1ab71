// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.api.Origin;
import natpmp.api.Protocol;

import org.junit.jupiter.api.RepeatedTest;
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
}
