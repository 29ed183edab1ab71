// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;

import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallState;
import natpmp.api.Health;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** The backends servlet with fake backends and a fake ConfigurationAdmin. */
class NatPmpBackendsPluginTest {
    private static final String TOKEN = "tok";
    private static final String BASE = "/system/console/natpmp-backends";

    private Hashtable<String, Object> stored;
    private final List<Dictionary<String, Object>> updates = new ArrayList<>();
    private final List<String> getConfigurationCalls = new ArrayList<>();
    private NatPmpBackendsPlugin plugin;

    /** A backend whose health is fixed; the kernel methods must not be called by the console. */
    record Backend(String name, BackendHealth health) implements FirewallBackend {
        @Override
        public void reconcile(String owner, FirewallState desired) {
            throw new AssertionError("the console must not reconcile");
        }

        @Override
        public void apply(String owner, FirewallChange change) {
            throw new AssertionError("the console must not apply");
        }

        @Override
        public FirewallState installed(String owner) {
            throw new AssertionError("the console must not read rules");
        }

        @Override
        public void release(String owner) {
            throw new AssertionError("the console must not release");
        }
    }

    @BeforeEach
    void setUp() {
        stored = new Hashtable<>();
        stored.put("service.pid", "natpmp.service");
        stored.put("lan", "192.168.50.1");
        stored.put("external.interface", "wan0");
        Configuration config = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Configuration.class}, (p, m, args) -> switch (m.getName()) {
                    case "getProperties" -> stored == null ? null : new Hashtable<>(stored);
                    case "update" -> {
                        @SuppressWarnings("unchecked")
                        Dictionary<String, Object> d = (Dictionary<String, Object>) args[0];
                        updates.add(d);
                        yield null;
                    }
                    default -> throw new AssertionError("unexpected " + m);
                });
        ConfigurationAdmin cm = (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ConfigurationAdmin.class}, (p, m, args) -> switch (m.getName()) {
                    case "listConfigurations" -> stored == null ? null : new Configuration[] {config};
                    case "getConfiguration" -> {
                        getConfigurationCalls.add(args[0] + " " + args[1]);
                        yield config;
                    }
                    default -> throw new AssertionError("unexpected " + m);
                });
        plugin = new NatPmpBackendsPlugin(cm, TOKEN);
        Instant t = Instant.parse("2026-11-21T12:00:00Z");
        plugin.add(new NatPmpBackendsPlugin.Tracked(new Backend("iptables", new BackendHealth("iptables", Health.OK, t,
                Optional.empty(), 0)), "iptables", 100, 11, "natpmp.iptables"));
        plugin.add(new NatPmpBackendsPlugin.Tracked(new Backend("nftables", new BackendHealth("nftables",
                Health.FAILED, t, Optional.of("nft: <script>x</script>"), 2)), "nftables", 50, 12, "natpmp.nftables"));
    }

    private FakeHttp.Response call(FakeHttp.Request request) throws Exception {
        FakeHttp.Response response = new FakeHttp.Response();
        plugin.service(request.build(), response.build());
        return response;
    }

    @Test
    @DisplayName("GET natpmp-backends.json lists every tracked backend, ranking first, with health and last error")
    void jsonDocument() throws Exception {
        String json = call(new FakeHttp.Request("GET", BASE + ".json")).text();
        assertThat(json).startsWith("{\"service\":false,\"inUse\":null,\"target\":null,\"backends\":[{\"name\":\"iptables\","
                + "\"ranking\":100,\"serviceId\":11,\"bundle\":\"natpmp.iptables\",\"inUse\":false,")
                .contains("\"lastError\":\"nft: \\u003cscript\\u003ex\\u003c/script\\u003e\",\"repairs\":2")
                .doesNotContain("<script>");
    }

    @Test
    @DisplayName("POST select writes backend.target through ConfigurationAdmin and keeps every other key")
    void selectBackend() throws Exception {
        FakeHttp.Response r = call(new FakeHttp.Request("POST", BASE + "/select").json(TOKEN,
                "{\"backend\":\"nftables\"}"));
        assertThat(r.status).isEqualTo(200);
        assertThat(r.text()).isEqualTo("{\"target\":\"(natpmp.backend=nftables)\"}");
        assertThat(getConfigurationCalls).containsExactly("natpmp.service ?");
        assertThat(updates).hasSize(1);
        Dictionary<String, Object> written = updates.get(0);
        assertThat(written.get("backend.target")).isEqualTo("(natpmp.backend=nftables)");
        assertThat(written.get("lan")).isEqualTo("192.168.50.1");
        assertThat(written.get("external.interface")).isEqualTo("wan0");
    }

    @Test
    @DisplayName("POST select refuses unknown backends, filter injection, a missing configuration and CSRF")
    void selectRefusals() throws Exception {
        assertThat(call(new FakeHttp.Request("POST", BASE + "/select").json(TOKEN, "{\"backend\":\"pf\"}")).status)
                .isEqualTo(409);
        assertThat(call(new FakeHttp.Request("POST", BASE + "/select").json(TOKEN,
                "{\"backend\":\"*)(natpmp.backend=iptables\"}")).status).isEqualTo(400);
        assertThat(call(new FakeHttp.Request("POST", BASE + "/select").json(null, "{\"backend\":\"nftables\"}")).status)
                .isEqualTo(403);
        stored = null;
        assertThat(call(new FakeHttp.Request("POST", BASE + "/select").json(TOKEN, "{\"backend\":\"nftables\"}")).status)
                .isEqualTo(409);
        assertThat(updates).isEmpty();
    }
}
