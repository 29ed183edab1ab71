// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.Origin;
import natpmp.api.Protocol;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;

class MappingTableTest {
    static final Inet4Address A = Addresses.parse("192.168.50.10");
    static final Inet4Address B = Addresses.parse("192.168.50.11");

    private final MappingTable table = new MappingTable();

    private static Lease lease(Inet4Address c, Protocol p, int in, int ext, long expires) {
        return new Lease(new MappingKey(c, p, in), ext, Origin.NATPMP, 60, expires);
    }

    @Test
    void n11_companionPortReservedAcrossClients() {
        table.put(lease(A, Protocol.TCP, 2000, 40000, 1000));
        assertThat(table.isAvailable(B, Protocol.UDP, 2000, 40000)).as("other client, companion").isFalse();
        assertThat(table.isAvailable(B, Protocol.TCP, 2000, 40000)).as("same protocol").isFalse();
        assertThat(table.isAvailable(A, Protocol.UDP, 2000, 40000)).as("same client, same internal port").isTrue();
        assertThat(table.isAvailable(A, Protocol.UDP, 2001, 40000)).as("same client, other internal port").isFalse();
        assertThat(table.isAvailable(B, Protocol.UDP, 2000, 40001)).isTrue();
    }

    @Test
    void putReplacesSameKeyAndRejectsForeignPort() {
        table.put(lease(A, Protocol.UDP, 5000, 50000, 1000));
        assertThat(table.put(lease(A, Protocol.UDP, 5000, 50000, 9000))).isPresent();
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.nextExpiry()).hasValue(9000);
        assertThatThrownBy(() -> table.put(lease(B, Protocol.UDP, 5000, 50000, 1000)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void n17_expireRemovesDueMappingsEarliestFirst() {
        table.put(lease(A, Protocol.UDP, 1, 40001, 3000));
        table.put(lease(A, Protocol.UDP, 2, 40002, 1000));
        table.put(lease(B, Protocol.TCP, 3, 40003, 5000));
        table.put(new Lease(new MappingKey(B, Protocol.TCP, 22), 2222, Origin.STATIC, 0, Lease.NEVER));
        assertThat(table.expire(999)).isEmpty();
        assertThat(table.expire(3000)).extracting(Lease::externalPort).containsExactly(40002, 40001);
        assertThat(table.nextExpiry()).hasValue(5000);
        assertThat(table.expire(Long.MAX_VALUE - 1)).extracting(Lease::externalPort).containsExactly(40003);
        assertThat(table.all()).extracting(Lease::externalPort).containsExactly(2222); // static never expires
        assertThat(table.nextExpiry()).isEmpty();
    }

    @Test
    void countsPerClientIgnoreStaticMappings() {
        table.put(lease(A, Protocol.UDP, 1, 40001, 3000));
        table.put(lease(A, Protocol.TCP, 1, 40001, 3000));
        table.put(new Lease(new MappingKey(A, Protocol.TCP, 22), 2222, Origin.STATIC, 0, Lease.NEVER));
        assertThat(table.dynamicCountOf(A)).isEqualTo(2);
        assertThat(table.dynamicCount()).isEqualTo(2);
        table.remove(new MappingKey(A, Protocol.UDP, 1));
        assertThat(table.dynamicCountOf(A)).isEqualTo(1);
        assertThat(table.byExternalPort(Protocol.UDP, 40001)).isEmpty();
        assertThat(table.byExternalPort(Protocol.TCP, 40001)).isPresent();
    }

    @Test
    void ofListsOneClientsProtocolOnly() {
        table.put(lease(A, Protocol.UDP, 1, 40001, 3000));
        table.put(lease(A, Protocol.UDP, 65535, 40002, 3000));
        table.put(lease(A, Protocol.TCP, 3, 40003, 3000));
        table.put(lease(B, Protocol.UDP, 4, 40004, 3000));
        assertThat(table.of(A, Protocol.UDP)).extracting(Lease::externalPort).containsExactly(40001, 40002);
    }
}
