// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import static natpmp.service.internal.osgi.Configs.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.Protocol;
import natpmp.service.internal.core.PortRange;

import org.junit.jupiter.api.Test;

class ListenerSettingsTest {

    @Test
    void defaults() {
        ListenerSettings s = ListenerSettings.parse(config());
        assertThat(s.lan()).containsExactly("127.0.0.1");
        assertThat(s.externalInterface()).isEqualTo("wan0");
        assertThat(s.engine().portRange()).isEqualTo(new PortRange(1024, 65535));
        assertThat(s.engine().lifetimes().max()).isEqualTo(86400);
        assertThat(s.engine().quotaPerClient()).isEqualTo(256);
        assertThat(s.engine().globalLimit()).isEqualTo(65536);
        assertThat(s.announce()).isTrue();
        assertThat(s.enabled()).isTrue();
        assertThat(s.backendTarget()).isEqualTo("(natpmp.backend=*)");
    }

    @Test
    void fileInstallStringsHoldSeveralEntries() {
        ListenerSettings s = ListenerSettings.parse(config(
                "lan", new String[] {"br-lan, 192.168.60.1/24  10.0.0.1"},
                "port_reserved", new String[] {"22, 80-89", "443"},
                "rules", new String[] {"allow 1024-65535 192.168.50.0/24 1024-65535; deny 0-65535 0.0.0.0/0 0-65535"},
                "static_mappings", new String[] {"tcp 2222 192.168.50.10 22; udp 51820 192.168.50.11 51820"}));
        assertThat(s.lan()).containsExactly("br-lan", "192.168.60.1/24", "10.0.0.1");
        assertThat(s.engine().reserved()).containsExactly(new PortRange(22, 22), new PortRange(80, 89),
                new PortRange(443, 443));
        assertThat(s.engine().permissions().rules()).hasSize(2);
        assertThat(s.staticMappings()).extracting(m -> m.protocol()).containsExactly(Protocol.TCP, Protocol.UDP);
    }

    @Test
    void preciseMessages() {
        assertMessage(config("port_low", 70000), "port.low (70000) must be in 1..65535");
        assertMessage(config("port_high", 0), "port.high (0) must be in 1..65535");
        assertMessage(config("port_low", 3000, "port_high", 2000), "port.low (3000) must not be above port.high (2000)");
        assertMessage(config("lan", new String[0]), "lan must name at least one LAN address or interface");
        assertMessage(config("lan", new String[] {" , "}), "lan must name at least one LAN address or interface");
        assertMessage(config("external_interface", " "), "external.interface must be set");
        assertMessage(config("external_interface", "eth0; rm"), "external.interface (eth0; rm) is not an interface name");
        assertMessage(config("lan", new String[] {"eth0"}, "external_interface", "eth0"),
                "lan entry 'eth0' is the external interface");
        assertMessage(config("port_reserved", new String[] {"70000"}),
                "port.reserved: port 70000 in '70000' must be in 1..65535");
        assertMessage(config("lifetime_min", 0L), "lifetime.min (0) must be in 1..4294967295 seconds");
        assertMessage(config("lifetime_max", 4294967296L), "lifetime.max (4294967296) must be in 1..4294967295 seconds");
        assertMessage(config("lifetime_min", 100L, "lifetime_max", 50L),
                "lifetime.min (100) must not be above lifetime.max (50)");
        assertMessage(config("quota_per_client", 0), "quota.per.client (0) must be at least 1");
        assertMessage(config("limit_global", -1), "limit.global (-1) must be at least 1");
        assertMessage(config("rate_per_client", 0.0), "rate.per.client (0.0) must be a number above 0");
        assertMessage(config("rate_burst", 0.5), "rate.burst (0.5) must be at least 1");
        assertMessage(config("rules", new String[] {"allow 1 2 3"}), "rules: rule 'allow 1 2 3': '2' is not an IPv4");
        assertMessage(config("static_mappings", new String[] {"tcp 22 1.2.3.4"}),
                "static.mappings: static mapping 'tcp 22 1.2.3.4' must have 4 fields");
        assertMessage(config("static_mappings", new String[] {"tcp 22 1.2.3.4 22; tcp 22 1.2.3.5 22"}),
                "static.mappings: 'tcp 22 1.2.3.4 22' and 'tcp 22 1.2.3.5 22' both use tcp external port 22");
        assertMessage(config("backend_target", "natpmp.backend=x"), "backend.target (natpmp.backend=x) must be an LDAP");
    }

    private static void assertMessage(NatPmpListener.Config c, String start) {
        assertThatThrownBy(() -> ListenerSettings.parse(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(start);
    }
}
