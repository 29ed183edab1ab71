// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import natpmp.api.MappingService;
import natpmp.api.MappingSnapshot;
import natpmp.api.Protocol;
import natpmp.webconsole.internal.core.FlatJson;
import natpmp.webconsole.internal.core.JsonWriter;
import natpmp.webconsole.internal.core.MappingsView;
import natpmp.webconsole.internal.core.PageFrame;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Web Console page {@code /system/console/natpmp-mappings}: the live mapping table with delete actions.
 * <ul>
 * <li>{@code GET natpmp-mappings} the page (inside the console frame), refreshed by {@code res/natpmp.js}</li>
 * <li>{@code GET natpmp-mappings.json} the same data for scripts ({@link MappingsView#json})</li>
 * <li>{@code POST natpmp-mappings/delete} {@code {"client","protocol","internalPort"}} → {@code {"removed": n}}</li>
 * <li>{@code POST natpmp-mappings/delete-client} {@code {"client"}} → {@code {"removed": n}}</li>
 * </ul>
 * POSTs must pass {@link natpmp.webconsole.internal.core.CsrfPolicy}; authentication is the console's.
 */
@Component(service = Servlet.class, property = {
        "felix.webconsole.label=" + PageFrame.MAPPINGS,
        "felix.webconsole.title=NAT-PMP mappings",
        "felix.webconsole.category=NAT-PMP",
        "felix.webconsole.css=/" + PageFrame.MAPPINGS + "/res/natpmp.css"})
public final class NatPmpMappingsPlugin extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NatPmpMappingsPlugin.class);
    /** How long a delete may take: the service completes once the kernel rules are gone. */
    static final long DELETE_TIMEOUT_SECONDS = 15;

    private final transient String token;
    private transient volatile MappingService mappings;

    /** Creates the plugin with a fresh random token. */
    @Activate
    public NatPmpMappingsPlugin() {
        this(HttpEdge.newToken());
    }

    NatPmpMappingsPlugin(String token) {
        this.token = token;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindMappings(MappingService service) {
        this.mappings = service;
    }

    void unbindMappings(MappingService service) {
        if (this.mappings == service) {
            this.mappings = null;
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        MappingService service = this.mappings;
        Optional<MappingSnapshot> snapshot = Optional.ofNullable(service).map(MappingService::snapshot);
        if (HttpEdge.wantsJson(req)) {
            HttpEdge.sendJson(resp, 200, MappingsView.json(snapshot, HttpEdge.links(req)));
        } else {
            HttpEdge.sendHtml(resp, MappingsView.html(snapshot, HttpEdge.links(req), token));
        }
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Optional<String> refused = HttpEdge.refusal(req, token);
        if (refused.isPresent()) {
            LOG.warn("console: refused POST {} from {}: {}", req.getRequestURI(), req.getRemoteAddr(), refused.get());
            HttpEdge.sendError(resp, 403, refused.get());
            return;
        }
        MappingService service = this.mappings;
        if (service == null) {
            HttpEdge.sendError(resp, 503, "the NAT-PMP service is not running");
            return;
        }
        String action = HttpEdge.action(req);
        try {
            Map<String, Object> body = FlatJson.parseObject(HttpEdge.body(req));
            Inet4Address client = HttpEdge.ipv4(body.get("client"));
            int removed;
            switch (action) {
                case "delete" -> {
                    Protocol protocol = protocol(body.get("protocol"));
                    int port = port(body.get("internalPort"));
                    removed = await(service.delete(client, protocol, port).toCompletableFuture());
                    LOG.info("console: deleted {} {}:{} ({} removed) for {}", protocol, client.getHostAddress(), port,
                            removed, user(req));
                }
                case "delete-client" -> {
                    removed = await(service.deleteAll(client).toCompletableFuture());
                    LOG.info("console: deleted every mapping of {} ({} removed) for {}", client.getHostAddress(),
                            removed, user(req));
                }
                default -> {
                    HttpEdge.sendError(resp, 404, "unknown action: " + action);
                    return;
                }
            }
            HttpEdge.sendJson(resp, 200, new JsonWriter().beginObject().field("removed", removed).endObject()
                    .toString());
        } catch (IllegalArgumentException e) {
            HttpEdge.sendError(resp, 400, e.getMessage());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            LOG.warn("console: {} failed: {}", action, cause.toString());
            HttpEdge.sendError(resp, 500, action + " failed: " + cause.getMessage());
        } catch (TimeoutException e) {
            HttpEdge.sendError(resp, 504, action + " did not complete within " + DELETE_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            HttpEdge.sendError(resp, 503, "interrupted");
        }
    }

    private static int await(java.util.concurrent.CompletableFuture<Integer> result)
            throws ExecutionException, TimeoutException, InterruptedException {
        return result.get(DELETE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static Protocol protocol(Object value) {
        if (value instanceof String s) {
            try {
                return Protocol.valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                // fall through to the precise message
            }
        }
        throw new IllegalArgumentException("protocol must be UDP or TCP");
    }

    private static int port(Object value) {
        if (value instanceof Long n && n >= 1 && n <= 65535) {
            return n.intValue();
        }
        throw new IllegalArgumentException("internalPort must be an integer from 1 to 65535");
    }

    static String user(HttpServletRequest req) {
        return req.getRemoteUser() == null ? "console user at " + req.getRemoteAddr() : req.getRemoteUser();
    }
}
