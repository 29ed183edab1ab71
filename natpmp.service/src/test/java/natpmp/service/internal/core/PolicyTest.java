// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import natpmp.api.Protocol;

import org.junit.jupiter.api.Test;

import java.util.List;

/** Lifetime policy, epoch, rate limiter, rules, ranges, static mappings. */
class PolicyTest {

    @Test
    void n17_grantedIsMinOfRequestedAndMaxNeverMoreThanRequested() {
        LifetimePolicy p = new LifetimePolicy(120, 86400);
        assertThat(p.grant(604800)).isEqualTo(86400);
        assertThat(p.grant(7200)).isEqualTo(7200);
        assertThat(p.grant(1)).isEqualTo(1); // minimum only raises up to the requested value
        assertThat(p.grant(119)).isEqualTo(119);
    }

    @Test
    void n17_noOverflowAtTheTopOfUnsigned32() {
        LifetimePolicy p = new LifetimePolicy(1, NatPmpCodec.U32_MAX);
        assertThat(p.grant(4_294_967_295L)).isEqualTo(4_294_967_295L);
        assertThatThrownBy(() -> new LifetimePolicy(10, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LifetimePolicy(0, 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void n16_epochCountsWholeSecondsFromMonotonicTimeAndResets() {
        Epoch e = new Epoch(10_000);
        assertThat(e.seconds(10_999)).isZero();
        assertThat(e.seconds(12_500)).isEqualTo(2);
        assertThat(e.seconds(5_000)).as("never negative").isZero();
        e.reset(20_000);
        assertThat(e.seconds(20_400)).isZero();
        assertThat(e.seconds(23_000)).isEqualTo(3);
    }

    @Test
    void rateLimiterAllowsBurstThenRefillsAtRate() {
        RateLimiter r = new RateLimiter(2, 3);
        var a = Addresses.parse("10.0.0.1");
        var b = Addresses.parse("10.0.0.2");
        assertThat(r.tryAcquire(a, 0)).isTrue();
        assertThat(r.tryAcquire(a, 0)).isTrue();
        assertThat(r.tryAcquire(a, 0)).isTrue();
        assertThat(r.tryAcquire(a, 0)).isFalse();
        assertThat(r.tryAcquire(b, 0)).as("per client").isTrue();
        assertThat(r.tryAcquire(a, 499)).isFalse();
        assertThat(r.tryAcquire(a, 500)).isTrue(); // one token after 0.5 s at 2/s
        assertThat(r.tryAcquire(a, 500)).isFalse();
    }

    @Test
    void rateLimiterForgetsIdleClients() {
        RateLimiter r = new RateLimiter(100, 1);
        for (int i = 0; i < 3000; i++) {
            r.tryAcquire(Addresses.fromBits(0x0a000000 + i), i * 100L);
        }
        assertThat(r.tracked()).isLessThanOrEqualTo(1025);
    }

    @Test
    void n34_firstMatchWinsDefaultAllow() {
        Permissions p = new Permissions(List.of(
                PermissionRule.parse("allow 1024-65535 192.168.50.0/24 1024-65535"),
                PermissionRule.parse("deny 0-65535 0.0.0.0/0 0-65535")));
        assertThat(p.allows(Addresses.parse("192.168.50.7"), 5000, 5000)).isTrue();
        assertThat(p.allows(Addresses.parse("192.168.50.7"), 80, 5000)).isFalse();
        assertThat(p.allows(Addresses.parse("10.1.1.1"), 5000, 5000)).isFalse();
        assertThat(Permissions.ALLOW_ALL.allows(Addresses.parse("10.1.1.1"), 1, 1)).isTrue();
    }

    @Test
    void n34_ruleSyntaxErrorsNameTheRule() {
        assertThatThrownBy(() -> PermissionRule.parse("permit 1 1.2.3.4 1")).hasMessageContaining("allow or deny");
        assertThatThrownBy(() -> PermissionRule.parse("allow 1 1.2.3.4")).hasMessageContaining("4 fields");
        assertThatThrownBy(() -> PermissionRule.parse("allow 1-x 1.2.3.4 1")).hasMessageContaining("'1-x'");
        assertThatThrownBy(() -> PermissionRule.parse("allow 1 1.2.3.4/33 1")).hasMessageContaining("prefix");
        assertThatThrownBy(() -> PermissionRule.parse("deny 1 1.2.3 1")).hasMessageContaining("not an IPv4 address");
        assertThat(PermissionRule.parse("DENY 22 10.0.0.9 0-65535").toString()).isEqualTo("deny 22 10.0.0.9/32 0-65535");
    }

    @Test
    void portRangeParsing() {
        assertThat(PortRange.parseList("22, 80-89 443")).containsExactly(new PortRange(22, 22), new PortRange(80, 89),
                new PortRange(443, 443));
        assertThatThrownBy(() -> PortRange.parse("70000")).hasMessage("port 70000 in '70000' must be in 1..65535");
        assertThatThrownBy(() -> PortRange.parse("90-80")).hasMessageContaining("first port above its last");
        assertThatThrownBy(() -> PortRange.parse("0")).hasMessageContaining("must be in 1..65535");
        assertThat(PortRange.parseRules("0-65535")).isEqualTo(new PortRange(0, 65535));
    }

    @Test
    void n19_staticMappingSyntax() {
        StaticMapping s = StaticMapping.parse(" tcp 2222  192.168.50.10 22 ");
        assertThat(s).isEqualTo(new StaticMapping(Protocol.TCP, 2222, Addresses.parse("192.168.50.10"), 22));
        assertThat(s.toString()).isEqualTo("tcp 2222 192.168.50.10 22");
        assertThatThrownBy(() -> StaticMapping.parse("sctp 1 1.2.3.4 1")).hasMessageContaining("tcp or udp");
        assertThatThrownBy(() -> StaticMapping.parse("udp 1-2 1.2.3.4 1")).hasMessageContaining("single ports");
    }

    @Test
    void addressesParseStrictly() {
        assertThat(Addresses.parse("255.0.10.1").getHostAddress()).isEqualTo("255.0.10.1");
        for (String bad : new String[] {"1.2.3", "1.2.3.256", "a.b.c.d", "1..2.3", "01234.1.1.1", "localhost"}) {
            assertThatThrownBy(() -> Addresses.parse(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void changeAccumulatorKeepsNetEffect() {
        var f1 = new MappingKey(Addresses.parse("10.0.0.1"), Protocol.UDP, 1);
        var add1 = new Lease(f1, 4000, natpmp.api.Origin.NATPMP, 1, 1).forward();
        var other = new Lease(new MappingKey(Addresses.parse("10.0.0.2"), Protocol.UDP, 1), 4001,
                natpmp.api.Origin.NATPMP, 1, 1).forward();
        ChangeAccumulator acc = new ChangeAccumulator();
        acc.append(natpmp.api.FirewallChange.forwards(java.util.Set.of(add1), java.util.Set.of()));
        acc.append(natpmp.api.FirewallChange.forwards(java.util.Set.of(), java.util.Set.of(add1)));
        assertThat(acc.isEmpty()).as("added then removed in one batch never reaches the kernel").isTrue();
        acc.append(natpmp.api.FirewallChange.forwards(java.util.Set.of(), java.util.Set.of(other)));
        acc.append(natpmp.api.FirewallChange.forwards(java.util.Set.of(other), java.util.Set.of()));
        assertThat(acc.isEmpty()).as("removed then re-added: stays installed").isTrue();
        acc.append(natpmp.api.FirewallChange.forwards(java.util.Set.of(add1), java.util.Set.of(other)));
        assertThat(acc.build().addForwards()).containsExactly(add1);
        assertThat(acc.build().removeForwards()).containsExactly(other);
    }
}
