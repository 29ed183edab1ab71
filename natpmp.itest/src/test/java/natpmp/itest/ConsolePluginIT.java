// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import jakarta.servlet.Servlet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * The natpmp.webconsole plugin in the assembled platform: its servlets are registered as Web Console plugins
 * (label, title, category NAT-PMP) and the console serves them only with credentials.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class ConsolePluginIT {
    private static final Duration LIMIT = Duration.ofSeconds(20);

    @InjectBundleContext
    BundleContext context;

    @Test
    void mappingsAndBackendsPagesAreRegisteredAsConsolePlugins(
            @InjectService(filter = "(felix.webconsole.label=natpmp-mappings)") Servlet mappings,
            @InjectService(filter = "(felix.webconsole.label=natpmp-backends)") Servlet backends,
            @InjectService(filter = "(felix.webconsole.label=natpmp-netmap)") Servlet netmap) throws Exception {
        assertThat(mappings).isNotNull();
        assertThat(backends).isNotNull();
        assertThat(netmap).isNotNull();
        for (String label : new String[] {"natpmp-mappings", "natpmp-backends", "natpmp-netmap"}) {
            ServiceReference<Servlet> ref = context.getServiceReferences(Servlet.class,
                    "(felix.webconsole.label=" + label + ")").iterator().next();
            assertThat(ref.getProperty("felix.webconsole.category")).isEqualTo("NAT-PMP");
            assertThat((String) ref.getProperty("felix.webconsole.title")).startsWith("NAT-PMP ");
            assertThat(ref.getBundle().getSymbolicName()).isEqualTo("natpmp.webconsole");
        }
    }

    @Test
    void consoleServesThePluginOnlyWithCredentials() throws Exception {
        String endpoint = endpoint();
        String json = endpoint + "system/console/natpmp-backends.json";
        // the console registers its servlet asynchronously: 404/500 first (BUILD-NOTES pitfall 13)
        Await.until("console serving " + json, LIMIT, () -> status(json, "admin:admin") == 200);
        assertThat(status(json, null)).as("no credentials").isEqualTo(401);
        assertThat(status(json, "admin:wrong")).as("wrong password").isEqualTo(401);
        HttpURLConnection c = open(json, "admin:admin");
        String body = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(c.getContentType()).startsWith("application/json");
        // both backends of the assembly are tracked by the plugin
        assertThat(body).contains("\"name\":\"iptables\"").contains("\"name\":\"nftables\"")
                .contains("\"links\":{\"natpmp.service\":");
    }

    /** The HTTP runtime publishes its address (port 0 in itest.bndrun: a free port) as osgi.http.endpoint. */
    private String endpoint() throws Exception {
        ServiceReference<?>[] refs = Await.until("the HTTP runtime", LIMIT, () -> {
            try {
                return context.getServiceReferences("org.osgi.service.http.runtime.HttpServiceRuntime", null);
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
        });
        Object value = refs[0].getProperty("osgi.http.endpoint");
        String first = value instanceof String[] a ? a[0] : value instanceof java.util.Collection<?> c
                ? String.valueOf(c.iterator().next()) : String.valueOf(value);
        return first.endsWith("/") ? first : first + "/";
    }

    private static HttpURLConnection open(String url, String credentials) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        if (credentials != null) {
            c.setRequestProperty("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return c;
    }

    private static int status(String url, String credentials) {
        try {
            HttpURLConnection c = open(url, credentials);
            int code = c.getResponseCode();
            c.disconnect();
            return code;
        } catch (IOException e) {
            return -1;
        }
    }
}
