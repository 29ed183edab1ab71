// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static natpmp.nftables.internal.core.Fixtures.HOST;
import static natpmp.nftables.internal.core.Fixtures.SSH;
import static natpmp.nftables.internal.core.Fixtures.VPN;
import static natpmp.nftables.internal.core.Fixtures.WEB;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import natpmp.api.FirewallChange;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import org.junit.jupiter.api.Test;

/** What a change does to the kernel. */
class DeltaTest {
    @Test
    void removesOnlyWhatIsInstalledAndAddsOnlyWhatIsMissing() {
        Delta d = Delta.of(Set.of(WEB, VPN), Set.of(), FirewallChange.forwards(Set.of(WEB, SSH), Set.of(VPN, SSH)));
        assertThat(d.removeForwards()).containsExactly(VPN);
        // SSH is removed-then-added in the request; it is not installed so only the add remains
        assertThat(d.addForwards()).containsExactly(SSH);
    }

    @Test
    void replacingAnInstalledEntryDeletesAndAddsIt() {
        Delta d = Delta.of(Set.of(WEB), Set.of(HOST), new FirewallChange(Set.of(WEB), Set.of(WEB), Set.of(HOST),
                Set.of(HOST)));
        assertThat(d.removeForwards()).containsExactly(WEB);
        assertThat(d.addForwards()).containsExactly(WEB);
        assertThat(d.removeBindings()).containsExactly(HOST);
        assertThat(d.addBindings()).containsExactly(HOST);
        Set<PortForward> f = new HashSet<>(Set.of(WEB));
        Set<HostBinding> b = new HashSet<>(Set.of(HOST));
        d.applyTo(f, b);
        assertThat(f).containsExactly(WEB);
        assertThat(b).containsExactly(HOST);
    }

    @Test
    void emptyWhenNothingChanges() {
        assertThat(Delta.of(Set.of(WEB), Set.of(), FirewallChange.forwards(Set.of(WEB), Set.of(VPN))).isEmpty())
                .isTrue();
    }
}
