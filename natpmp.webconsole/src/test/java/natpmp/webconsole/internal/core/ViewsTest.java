// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import natpmp.api.BackendHealth;
import natpmp.api.Health;
import natpmp.api.Mapping;
import natpmp.api.MappingSnapshot;
import natpmp.api.Origin;
import natpmp.api.Protocol;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ViewsTest {
    static final String XSS = "<img src=x onerror=alert(1)>'\"&";
    static final Instant T = Instant.parse("2026-11-21T12:00:00Z");
    static final ConsoleLinks LINKS = new ConsoleLinks("/system/console/");

    static Inet4Address ip(String s) throws Exception {
        return (Inet4Address) InetAddress.getByName(s);
    }

    static MappingSnapshot snapshot(String lastError) throws Exception {
        return new MappingSnapshot(T, true, 42, Optional.of(ip("203.0.113.1")), List.of(
                new Mapping(ip("192.168.50.10"), Protocol.UDP, 4101, 40101, 3600, 3599, Origin.NATPMP),
                new Mapping(ip("192.168.50.10"), Protocol.TCP, 4102, 40102, 3600, 75, Origin.NATPMP),
                new Mapping(ip("192.168.50.11"), Protocol.TCP, 22, 2222, 0, 0, Origin.STATIC)),
                Optional.of("iptables"), Optional.of(new BackendHealth("iptables", Health.DEGRADED, T,
                        Optional.ofNullable(lastError), 3)));
    }

    @Test
    @DisplayName("mappings JSON: the documented shape, values and totals")
    void mappingsJsonShape() throws Exception {
        assertThat(MappingsView.json(Optional.of(snapshot("boom")), LINKS)).isEqualTo("{\"available\":true,"
                + "\"taken\":\"2026-11-21T12:00:00Z\",\"enabled\":true,\"epoch\":42,\"externalAddress\":\"203.0.113.1\","
                + "\"backend\":\"iptables\",\"health\":{\"backend\":\"iptables\",\"state\":\"DEGRADED\","
                + "\"since\":\"2026-11-21T12:00:00Z\",\"lastError\":\"boom\",\"repairs\":3},"
                + "\"totals\":{\"mappings\":3,\"clients\":2,\"udp\":1,\"tcp\":2,\"static\":1},\"mappings\":["
                + "{\"client\":\"192.168.50.10\",\"protocol\":\"UDP\",\"internalPort\":4101,\"externalPort\":40101,"
                + "\"lifetime\":3600,\"remaining\":3599,\"origin\":\"NATPMP\"},"
                + "{\"client\":\"192.168.50.10\",\"protocol\":\"TCP\",\"internalPort\":4102,\"externalPort\":40102,"
                + "\"lifetime\":3600,\"remaining\":75,\"origin\":\"NATPMP\"},"
                + "{\"client\":\"192.168.50.11\",\"protocol\":\"TCP\",\"internalPort\":22,\"externalPort\":2222,"
                + "\"lifetime\":0,\"remaining\":0,\"origin\":\"STATIC\"}],"
                + "\"links\":{\"natpmp.service\":\"/system/console/configMgr/natpmp.service\","
                + "\"natpmp.iptables\":\"/system/console/configMgr/natpmp.iptables\","
                + "\"natpmp.nftables\":\"/system/console/configMgr/natpmp.nftables\"}}");
    }

    @Test
    @DisplayName("mappings JSON without a running service says so and still links to the configuration")
    void mappingsJsonWithoutService() {
        assertThat(MappingsView.json(Optional.empty(), LINKS)).startsWith("{\"available\":false,\"links\":{");
    }

    @Test
    @DisplayName("mappings page: a hostile last error is escaped in HTML and in JSON")
    void mappingsPageEscapes() throws Exception {
        String html = MappingsView.html(Optional.of(snapshot(XSS)), LINKS, "tok");
        assertThat(html).contains("&lt;img src=x onerror=alert(1)&gt;&#39;&quot;&amp;").doesNotContain("<img");
        assertThat(MappingsView.json(Optional.of(snapshot(XSS)), LINKS)).doesNotContain("<img")
                .contains("\\u003cimg src=x onerror=alert(1)\\u003e'\\\"\\u0026");
    }

    @Test
    @DisplayName("mappings page: rows, delete buttons with their keys, token and script; remaining time readable")
    void mappingsPageContent() throws Exception {
        String html = MappingsView.html(Optional.of(snapshot(null)), LINKS, "tok<\"");
        assertThat(html).contains("data-csrf='tok&lt;&quot;'")
                .contains("<td>192.168.50.10</td><td>UDP</td><td>4101</td><td>40101</td><td>59m 59s</td><td>NATPMP</td>")
                .contains("<td>1m 15s</td>").contains("<td>never</td><td>STATIC</td>")
                .contains("data-client='192.168.50.10' data-protocol='UDP' data-port='4101'")
                .contains("class='natpmp-delete-client' data-client='192.168.50.11'")
                .contains("data-json='/system/console/natpmp-mappings.json'")
                .contains("<script src='/system/console/natpmp-mappings/res/natpmp.js'></script>")
                .contains("href='/system/console/configMgr/natpmp.nftables'")
                .contains("3 (1 UDP, 2 TCP, 1 static) for 2 clients").doesNotContain("Last error");
        assertThat(MappingsView.html(Optional.empty(), LINKS, "t")).contains("not running").contains("No mappings.");
    }

    @Test
    @DisplayName("backends: JSON shape, highest ranking first, in-use flag, hostile names and errors escaped")
    void backends() {
        BackendRow ipt = new BackendRow("iptables", 100, 7, "natpmp.iptables",
                Optional.of(new BackendHealth("iptables", Health.OK, T, Optional.empty(), 0)), Optional.empty());
        BackendRow nft = new BackendRow("nftables", 50, 8, "natpmp.nftables",
                Optional.of(new BackendHealth("nftables", Health.FAILED, T, Optional.of(XSS), 1)), Optional.empty());
        BackendRow evil = new BackendRow(XSS, 10, 9, "evil.bundle", Optional.empty(), Optional.of("health() failed"));
        BackendsView.Model model = new BackendsView.Model(List.of(evil, nft, ipt), Optional.of("iptables"),
                Optional.of("(natpmp.backend=iptables)"), true);
        String json = BackendsView.json(model, LINKS);
        assertThat(json).startsWith("{\"service\":true,\"inUse\":\"iptables\",\"target\":\"(natpmp.backend=iptables)\","
                + "\"backends\":[{\"name\":\"iptables\",\"ranking\":100,\"serviceId\":7,\"bundle\":\"natpmp.iptables\","
                + "\"inUse\":true,\"health\":{\"backend\":\"iptables\",\"state\":\"OK\",\"since\":\"2026-11-21T12:00:00Z\","
                + "\"lastError\":null,\"repairs\":0},\"problem\":null},{\"name\":\"nftables\"")
                .contains("\"health\":null,\"problem\":\"health() failed\"").doesNotContain("<img");
        String html = BackendsView.html(model, LINKS, "tok");
        assertThat(html).doesNotContain("<img").contains("&lt;img src=x onerror=alert(1)&gt;")
                .contains("data-backend='nftables'>Use nftables</button>")
                .contains("iptables <strong>(in use)</strong>");
        // a name that is not a valid filter value gets no switch button
        assertThat(html).doesNotContain("data-backend='&lt;img");
        assertThat(html.indexOf(">iptables")).isLessThan(html.indexOf(">nftables"));
    }

    @Test
    @DisplayName("backend.target is built only from safe names")
    void targetFilter() {
        assertThat(BackendsView.target("nftables")).isEqualTo("(natpmp.backend=nftables)");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BackendsView.target("x)(objectClass=*"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
