// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueueRuleTest {
    private static final Topology WAN = new Topology("wan0", Optional.empty(), List.of());

    @Test
    void validRulesAndTheirCidr() {
        QueueRule lan = new QueueRule(ip("192.168.50.0"), 24, 4660);
        assertThat(lan.cidr()).isEqualTo("192.168.50.0/24");
        assertThat(lan.contains(ip("192.168.50.77"))).isTrue();
        assertThat(lan.contains(ip("192.168.51.1"))).isFalse();
        QueueRule any = new QueueRule(ip("0.0.0.0"), 0, 0);
        assertThat(any.contains(ip("10.1.2.3"))).isTrue();
        assertThat(new QueueRule(ip("10.0.0.7"), 32, 65535).contains(ip("10.0.0.7"))).isTrue();
        assertThat(lan).hasToString("192.168.50.0/24 -> queue 4660");
    }

    @Test
    void rejectsHostBitsRangesAndNull() {
        assertThatThrownBy(() -> new QueueRule(ip("192.168.50.1"), 24, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("host bits");
        assertThatThrownBy(() -> new QueueRule(ip("10.0.0.0"), 33, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prefixLength");
        assertThatThrownBy(() -> new QueueRule(ip("10.0.0.0"), -1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new QueueRule(ip("10.0.0.0"), 8, 65536)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queueNumber");
        assertThatThrownBy(() -> new QueueRule(ip("10.0.0.0"), 8, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new QueueRule(null, 8, 1)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void firewallStateKeepsItsThreeArgumentFormWithoutQueueRules() {
        HostBinding b = new HostBinding(ip("192.168.50.20"), ip("198.18.0.0"));
        FirewallState old = new FirewallState(WAN, Set.of(), Set.of(b));
        assertThat(old.queueRules()).isEmpty();
        assertThat(FirewallState.empty(WAN).queueRules()).isEmpty();
        QueueRule q = new QueueRule(ip("192.168.50.0"), 24, 7);
        FirewallState withQueue = new FirewallState(WAN, Set.of(), Set.of(b), Set.of(q));
        assertThat(withQueue.queueRules()).containsExactly(q);
        assertThat(withQueue).isNotEqualTo(old);
        assertThatThrownBy(() -> withQueue.queueRules().add(q)).isInstanceOf(UnsupportedOperationException.class);
    }

    private static Inet4Address ip(String dotted) {
        try {
            return (Inet4Address) InetAddress.getByName(dotted);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
