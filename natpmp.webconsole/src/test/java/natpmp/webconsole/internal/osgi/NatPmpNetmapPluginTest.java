// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;
import natpmp.api.NetmapService;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The subnet mapping page with a fake NetmapService. */
class NatPmpNetmapPluginTest {
    private static final String TOKEN = "tok";
    private static final String BASE = "/system/console/natpmp-netmap";
    private static final String POOL = "20.0.0.0/30";

    private final List<String> calls = new ArrayList<>();
    private NatPmpNetmapPlugin plugin;
    private FakeNetmap fake;

    static Inet4Address ip(String s) {
        try {
            return (Inet4Address) InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    final class FakeNetmap implements NetmapService {
        @Override
        public List<String> pools() {
            return List.of(POOL);
        }

        @Override
        public List<NetmapBinding> bindings() {
            return List.of(new NetmapBinding(ip("10.0.0.5"), ip("20.0.0.1"), 590, 123456, POOL, false),
                    new NetmapBinding(ip("10.0.0.9"), ip("20.0.0.2"), 0, 0, POOL, true));
        }

        @Override
        public List<NetmapPoolStats> stats() {
            return List.of(new NetmapPoolStats(POOL, 1, 1, 4, 590));
        }

        @Override
        public NetmapBinding addStatic(Inet4Address prenat, Inet4Address postnat) {
            calls.add("addStatic " + prenat.getHostAddress() + " " + postnat.getHostAddress());
            if (postnat.getHostAddress().startsWith("99.")) {
                throw new IllegalArgumentException("99.0.0.1 is in no pool <b>");
            }
            return new NetmapBinding(prenat, postnat, 0, 0, POOL, true);
        }

        @Override
        public boolean remove(Inet4Address address) {
            calls.add("remove " + address.getHostAddress());
            return true;
        }

        @Override
        public int flush(String pool) {
            calls.add("flush " + pool);
            return 2;
        }

        @Override
        public Optional<String> procTable(String pool) {
            return Optional.of("10.0.0.5 -> 20.0.0.1 --- ttl: 590 lasthit: 123456\n<script>\n");
        }

        @Override
        public Optional<String> procStat(String pool) {
            return Optional.of("1 1 4 590\n");
        }
    }

    @BeforeEach
    void setUp() {
        plugin = new NatPmpNetmapPlugin(TOKEN);
        fake = new FakeNetmap();
        plugin.bindNetmap(fake);
    }

    private FakeHttp.Response call(FakeHttp.Request request) throws Exception {
        FakeHttp.Response response = new FakeHttp.Response();
        plugin.service(request.build(), response.build());
        return response;
    }

    @Test
    @DisplayName("D14/D16 on the page: JSON per pool with stats line, bindings and the /proc table")
    void jsonDocument() throws Exception {
        assertThat(call(new FakeHttp.Request("GET", BASE + ".json")).text()).isEqualTo("{\"available\":true,"
                + "\"pools\":[{\"pool\":\"20.0.0.0/30\",\"stats\":{\"used\":1,\"statics\":1,\"all\":4,\"meanTtl\":590},"
                + "\"statLine\":\"1 1 4 590\",\"procTable\":\"10.0.0.5 -\\u003e 20.0.0.1 --- ttl: 590 lasthit: 123456\\n"
                + "\\u003cscript\\u003e\\n\",\"bindings\":[{\"prenat\":\"10.0.0.5\",\"postnat\":\"20.0.0.1\",\"ttl\":590,"
                + "\"lasthit\":123456,\"static\":false,\"expired\":false},{\"prenat\":\"10.0.0.9\",\"postnat\":\"20.0.0.2\","
                + "\"ttl\":0,\"lasthit\":0,\"static\":true,\"expired\":false}]}],"
                + "\"links\":{\"natpmp.netmap\":\"/system/console/configMgr/natpmp.netmap\","
                + "\"natpmp.netmap.rule\":\"/system/console/configMgr/natpmp.netmap.rule\"}}");
    }

    @Test
    @DisplayName("the page escapes the /proc text and offers unbind per binding and flush per pool")
    void htmlPage() throws Exception {
        String html = call(new FakeHttp.Request("GET", BASE)).text();
        assertThat(html).contains("&lt;script&gt;").doesNotContain("<script>\n")
                .contains("data-address='10.0.0.5'>Unbind").contains("data-pool='20.0.0.0/30'>Flush")
                .contains("<td>static</td>").contains("<p class='natpmp-stat'>1 1 4 590<span class='natpmp-legend'>");
    }

    @Test
    @DisplayName("D19 through POST: bind, unbind, flush; the service's refusal comes back as 400 with its reason")
    void administration() throws Exception {
        assertThat(call(new FakeHttp.Request("POST", BASE + "/bind").json(TOKEN,
                "{\"prenat\":\"10.0.0.7\",\"postnat\":\"20.0.0.3\"}")).text())
                .isEqualTo("{\"prenat\":\"10.0.0.7\",\"postnat\":\"20.0.0.3\",\"pool\":\"20.0.0.0/30\"}");
        assertThat(call(new FakeHttp.Request("POST", BASE + "/unbind").json(TOKEN, "{\"address\":\"10.0.0.5\"}"))
                .text()).isEqualTo("{\"removed\":true}");
        assertThat(call(new FakeHttp.Request("POST", BASE + "/flush").json(TOKEN, "{\"pool\":\"20.0.0.0/30\"}")).text())
                .isEqualTo("{\"removed\":2}");
        FakeHttp.Response refused = call(new FakeHttp.Request("POST", BASE + "/bind").json(TOKEN,
                "{\"prenat\":\"10.0.0.7\",\"postnat\":\"99.0.0.1\"}"));
        assertThat(refused.status).isEqualTo(400);
        assertThat(refused.text()).isEqualTo("{\"error\":\"99.0.0.1 is in no pool \\u003cb\\u003e\"}");
        assertThat(call(new FakeHttp.Request("POST", BASE + "/flush").json(TOKEN, "{\"pool\":\"all\"}")).status)
                .isEqualTo(400);
        assertThat(calls).containsExactly("addStatic 10.0.0.7 20.0.0.3", "remove 10.0.0.5", "flush 20.0.0.0/30",
                "addStatic 10.0.0.7 99.0.0.1");
    }

    @Test
    @DisplayName("CSRF refusal and the service missing")
    void refusals() throws Exception {
        assertThat(call(new FakeHttp.Request("POST", BASE + "/flush").json(null, "{\"pool\":\"20.0.0.0/30\"}")).status)
                .isEqualTo(403);
        plugin.unbindNetmap(fake);
        assertThat(call(new FakeHttp.Request("POST", BASE + "/flush").json(TOKEN, "{\"pool\":\"20.0.0.0/30\"}")).status)
                .isEqualTo(503);
        assertThat(call(new FakeHttp.Request("GET", BASE + ".json")).text()).startsWith("{\"available\":false,");
        assertThat(call(new FakeHttp.Request("GET", BASE)).text()).contains("not installed or not configured");
        assertThat(calls).isEmpty();
    }
}
