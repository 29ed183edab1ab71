// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CidrTest {
    @Test
    void d1_prefixAcceptsBitsDottedMaskAndNoMask() {
        assertThat(Cidr.parsePrefix("20.0.0.0/26")).isEqualTo(new Cidr(Ipv4.parse("20.0.0.0"), 26));
        assertThat(Cidr.parsePrefix("20.0.0.0/255.255.255.192")).isEqualTo(Cidr.parsePrefix("20.0.0.0/26"));
        assertThat(Cidr.parsePrefix("20.0.0.9")).isEqualTo(new Cidr(Ipv4.parse("20.0.0.9"), 32));
        assertThat(Cidr.parsePrefix("20.1.0.0/16").size()).isEqualTo(65536);
    }

    @Test
    void d1_prefixRejectsWithTheKernelMessages() {
        assertThatThrownBy(() -> Cidr.parsePrefix("20.0.0.0/0")).hasMessageStartingWith("Netmask needed");
        assertThatThrownBy(() -> Cidr.parsePrefix("20.0.0.0/15")).hasMessageStartingWith("Max netmask size is /16");
        assertThatThrownBy(() -> Cidr.parsePrefix("20.0.0.0/255.254.0.0"))
                .hasMessageStartingWith("Max netmask size is /16");
        assertThatThrownBy(() -> Cidr.parsePrefix("10.0.0.1/24")).hasMessageStartingWith("Bad network address");
        assertThatThrownBy(() -> Cidr.parsePrefix("10.0.0.0/33")).hasMessageContaining("bad prefix length");
        assertThatThrownBy(() -> Cidr.parsePrefix("10.0.0.0/255.0.255.0")).hasMessageContaining("contiguous");
        assertThatThrownBy(() -> Cidr.parsePrefix("10.0.0/24")).hasMessageContaining("not an IPv4 address");
        assertThatThrownBy(() -> Cidr.parsePrefix("10.0.0.256/32")).hasMessageContaining("not an IPv4 address");
    }

    @Test
    void d12_overlapIsDetectedBothWays() {
        Cidr big = Cidr.parse("20.0.0.0/24");
        assertThat(big.overlaps(Cidr.parse("20.0.0.64/26"))).isTrue();
        assertThat(Cidr.parse("20.0.0.64/26").overlaps(big)).isTrue();
        assertThat(big.overlaps(Cidr.parse("20.0.1.0/24"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(Ipv4.parse("255.255.255.255"))).isTrue();
        assertThat(Cidr.parse("255.255.255.0/24").last()).isEqualTo(Ipv4.parse("255.255.255.255"));
    }

    @Test
    void d11_outputHookIsRejected() {
        assertThatThrownBy(() -> Hook.parse("output")).hasMessageContaining("D11");
        assertThat(Hook.parse("SNAT")).isEqualTo(Hook.SNAT);
        assertThat(Hook.parse("prerouting")).isEqualTo(Hook.DNAT);
        assertThat(Hook.parse("both").snat()).isTrue();
    }
}
