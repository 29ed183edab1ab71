// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static natpmp.iptables.internal.core.Fixtures.HOST;
import static natpmp.iptables.internal.core.Fixtures.SSH;
import static natpmp.iptables.internal.core.Fixtures.VPN;
import static natpmp.iptables.internal.core.Fixtures.WEB;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import org.junit.jupiter.api.Test;

class DeltaTest {
    @Test
    void removesOnlyWhatIsInstalledAndAddsOnlyWhatIsMissing() {
        Delta d = Delta.of(Set.of(WEB, VPN), Set.of(), new FirewallChange(Set.of(WEB, SSH), Set.of(VPN, SSH),
                Set.of(HOST), Set.of()));
        assertThat(d.removeForwards()).containsExactly(VPN);
        assertThat(d.addForwards()).containsExactly(SSH);
        assertThat(d.addBindings()).containsExactly(HOST);
    }

    @Test
    void removeAndAddOfTheSameForwardReplacesIt() {
        Delta d = Delta.of(Set.of(WEB), Set.of(), FirewallChange.forwards(Set.of(WEB), Set.of(WEB)));
        assertThat(d.removeForwards()).containsExactly(WEB);
        assertThat(d.addForwards()).containsExactly(WEB);
        Set<PortForward> forwards = new HashSet<>(Set.of(WEB));
        d.applyTo(forwards, new HashSet<HostBinding>());
        assertThat(forwards).containsExactly(WEB);
    }
}
