// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static natpmp.nftables.internal.core.Fixtures.WITH_ADDRESS;
import static natpmp.nftables.internal.core.Fixtures.ip;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The O(change) check of a batch gives the answers the whole-state check gives. */
class ClaimsTest {
    private static final FirewallState S = new FirewallState(WITH_ADDRESS, Set.of(WEB, VPN), Set.of(HOST));

    private static Delta delta(FirewallChange change) {
        return Delta.of(S.forwards(), S.bindings(), change);
    }

    @Test
    @DisplayName("N27: a batch may not put a second forward on an external port or internal target in use")
    void n27_clashesWithInstalledForwardsAreRefused() {
        Claims claims = Claims.of(S);
        PortForward samePort = new PortForward(Protocol.TCP, 8080, ip("192.168.50.77"), 1);
        assertThatThrownBy(() -> claims.check(delta(FirewallChange.forwards(Set.of(samePort), Set.of()))))
                .hasMessage("two forwards use external port tcp 8080");
        PortForward sameTarget = new PortForward(Protocol.TCP, 9090, WEB.internalAddress(), WEB.internalPort());
        assertThatThrownBy(() -> claims.check(delta(FirewallChange.forwards(Set.of(sameTarget), Set.of()))))
                .hasMessageStartingWith("two forwards use internal port");
        PortForward a = new PortForward(Protocol.UDP, 7000, ip("192.168.50.78"), 1);
        PortForward b = new PortForward(Protocol.UDP, 7000, ip("192.168.50.79"), 2);
        assertThatThrownBy(() -> claims.check(delta(FirewallChange.forwards(Set.of(a, b), Set.of()))))
                .hasMessage("two forwards use external port udp 7000");
    }

    @Test
    @DisplayName("N27: a port freed in the same batch may be taken again; after apply the new owner holds it")
    void n27_portFreedInTheSameBatchMayBeReused() {
        Claims claims = Claims.of(S);
        PortForward moved = new PortForward(Protocol.TCP, 8080, ip("192.168.50.77"), 1);
        Delta d = delta(FirewallChange.forwards(Set.of(moved), Set.of(WEB)));
        assertThatCode(() -> claims.check(d)).doesNotThrowAnyException();
        claims.apply(d);
        FirewallState after = new FirewallState(WITH_ADDRESS, Set.of(moved, VPN), Set.of(HOST));
        // WEB is gone: its target is free, the external port is moved's now
        assertThatCode(() -> claims.check(Delta.of(after.forwards(), after.bindings(),
                FirewallChange.forwards(Set.of(new PortForward(Protocol.TCP, 9090, WEB.internalAddress(),
                        WEB.internalPort())), Set.of())))).doesNotThrowAnyException();
        assertThatThrownBy(() -> claims.check(Delta.of(after.forwards(), after.bindings(),
                FirewallChange.forwards(Set.of(WEB), Set.of())))).hasMessage("two forwards use external port tcp 8080");
    }

    @Test
    @DisplayName("N27: bindings may not share an internal or external address")
    void n27_bindingClashesAreRefused() {
        Claims claims = Claims.of(S);
        HostBinding sameInside = new HostBinding(HOST.internalAddress(), ip("198.18.0.9"));
        assertThatThrownBy(() -> claims.check(delta(new FirewallChange(Set.of(), Set.of(), Set.of(sameInside),
                Set.of())))).hasMessageContaining("share an address");
        HostBinding sameOutside = new HostBinding(ip("192.168.50.99"), HOST.externalAddress());
        assertThatThrownBy(() -> claims.check(delta(new FirewallChange(Set.of(), Set.of(), Set.of(sameOutside),
                Set.of())))).hasMessageContaining("share an address");
        assertThatCode(() -> claims.check(delta(new FirewallChange(Set.of(), Set.of(), Set.of(sameInside),
                Set.of(HOST))))).doesNotThrowAnyException();
    }
}
