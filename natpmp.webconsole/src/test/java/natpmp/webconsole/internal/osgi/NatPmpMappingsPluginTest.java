// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The mappings servlet driven through {@code HttpServlet.service} with fake requests and a fake service. */
class NatPmpMappingsPluginTest {
    private static final String TOKEN = "test-token";
    private static final String BASE = "/system/console/natpmp-mappings";

    private FakeMappingService service;
    private NatPmpMappingsPlugin plugin;

    @BeforeEach
    void setUp() throws Exception {
        Inet4Address client = (Inet4Address) InetAddress.getByName("192.168.50.10");
        service = new FakeMappingService(new MappingSnapshot(Instant.parse("2026-11-21T12:00:00Z"), true, 7,
                Optional.of((Inet4Address) InetAddress.getByName("203.0.113.1")),
                List.of(new Mapping(client, Protocol.UDP, 4101, 40101, 3600, 3500, Origin.NATPMP)),
                Optional.of("iptables"), Optional.of(new BackendHealth("iptables", Health.FAILED,
                        Instant.parse("2026-11-21T11:00:00Z"), Optional.of("iptables-restore: <b>bad</b> wan0'\""), 0))));
        plugin = new NatPmpMappingsPlugin(TOKEN);
        plugin.bindMappings(service);
    }

    private FakeHttp.Response call(FakeHttp.Request request) throws Exception {
        FakeHttp.Response response = new FakeHttp.Response();
        plugin.service(request.build(), response.build());
        return response;
    }

    @Test
    @DisplayName("GET natpmp-mappings.json: application/json, not cached, the snapshot as JSON")
    void jsonDocument() throws Exception {
        FakeHttp.Request request = new FakeHttp.Request("GET", BASE + ".json");
        request.attributes.put(HttpEdge.ATTR_APP_ROOT, "/console");
        FakeHttp.Response response = call(request);
        assertThat(response.status).isEqualTo(200);
        assertThat(response.contentType).isEqualTo("application/json");
        assertThat(response.headers).containsEntry("Cache-Control", "no-store");
        assertThat(response.text()).startsWith("{\"available\":true,\"taken\":\"2026-11-21T12:00:00Z\"")
                .contains("\"mappings\":[{\"client\":\"192.168.50.10\",\"protocol\":\"UDP\",\"internalPort\":4101,"
                        + "\"externalPort\":40101,\"lifetime\":3600,\"remaining\":3500,\"origin\":\"NATPMP\"}]")
                .contains("\"natpmp.service\":\"/console/configMgr/natpmp.service\"").doesNotContain("<b>");
    }

    @Test
    @DisplayName("GET natpmp-mappings: the page carries the token, escapes the backend's error text")
    void htmlPage() throws Exception {
        String html = call(new FakeHttp.Request("GET", BASE)).text();
        assertThat(html).contains("data-csrf='" + TOKEN + "'")
                .contains("iptables-restore: &lt;b&gt;bad&lt;/b&gt; wan0&#39;&quot;").doesNotContain("<b>bad");
    }

    @Test
    @DisplayName("POST delete with token and JSON deletes through MappingService and reports the count")
    void deleteOne() throws Exception {
        FakeHttp.Response response = call(new FakeHttp.Request("POST", BASE + "/delete").header("Origin",
                "http://127.0.0.1:8080").json(TOKEN, "{\"client\":\"192.168.50.10\",\"protocol\":\"udp\",\"internalPort\":4101}"));
        assertThat(response.status).isEqualTo(200);
        assertThat(response.text()).isEqualTo("{\"removed\":1}");
        assertThat(service.calls).containsExactly("delete 192.168.50.10 UDP 4101");
    }

    @Test
    @DisplayName("POST delete-client deletes every mapping of the client")
    void deleteClient() throws Exception {
        FakeHttp.Response response = call(new FakeHttp.Request("POST", BASE + "/delete-client")
                .json(TOKEN, "{\"client\":\"192.168.50.10\"}"));
        assertThat(response.text()).isEqualTo("{\"removed\":2}");
        assertThat(service.calls).containsExactly("deleteAll 192.168.50.10");
    }

    @Test
    @DisplayName("CSRF: no token, a form body or a foreign Origin get 403 and nothing is deleted")
    void csrfRefused() throws Exception {
        String body = "{\"client\":\"192.168.50.10\"}";
        FakeHttp.Response noToken = call(new FakeHttp.Request("POST", BASE + "/delete-client").json(null, body));
        FakeHttp.Response wrongToken = call(new FakeHttp.Request("POST", BASE + "/delete-client").json("x", body));
        FakeHttp.Request form = new FakeHttp.Request("POST", BASE + "/delete-client")
                .header("Content-Type", "application/x-www-form-urlencoded").header("X-Natpmp-Csrf", TOKEN);
        form.body = "client=192.168.50.10";
        FakeHttp.Response formResponse = call(form);
        FakeHttp.Response foreign = call(new FakeHttp.Request("POST", BASE + "/delete-client")
                .header("Origin", "http://attacker.example").json(TOKEN, body));
        for (FakeHttp.Response r : List.of(noToken, wrongToken, formResponse, foreign)) {
            assertThat(r.status).isEqualTo(403);
            assertThat(r.text()).startsWith("{\"error\":");
        }
        assertThat(service.calls).isEmpty();
    }

    @Test
    @DisplayName("invalid input gets 400 with the reason; no DNS name is ever resolved")
    void badInput() throws Exception {
        for (String body : List.of("{\"client\":\"example.com\"}", "{\"client\":\"192.168.50.10\",\"protocol\":\"icmp\","
                + "\"internalPort\":1}", "{\"client\":\"192.168.50.10\",\"protocol\":\"tcp\",\"internalPort\":70000}",
                "not json")) {
            FakeHttp.Response r = call(new FakeHttp.Request("POST", BASE + "/delete").json(TOKEN, body));
            assertThat(r.status).as(body).isEqualTo(400);
        }
        assertThat(call(new FakeHttp.Request("POST", BASE + "/explode").json(TOKEN, "{\"client\":\"1.2.3.4\"}")).status)
                .isEqualTo(404);
        assertThat(service.calls).isEmpty();
    }

    @Test
    @DisplayName("without a MappingService: JSON says unavailable, POST answers 503")
    void noService() throws Exception {
        plugin.unbindMappings(service);
        assertThat(call(new FakeHttp.Request("GET", BASE + ".json")).text()).startsWith("{\"available\":false");
        FakeHttp.Response r = call(new FakeHttp.Request("POST", BASE + "/delete-client").json(TOKEN,
                "{\"client\":\"192.168.50.10\"}"));
        assertThat(r.status).isEqualTo(503);
    }
}
