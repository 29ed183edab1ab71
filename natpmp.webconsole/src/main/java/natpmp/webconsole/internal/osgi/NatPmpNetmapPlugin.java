// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;
import natpmp.api.NetmapService;
import natpmp.webconsole.internal.core.FlatJson;
import natpmp.webconsole.internal.core.JsonWriter;
import natpmp.webconsole.internal.core.NetmapView;
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
 * Web Console page {@code /system/console/natpmp-netmap}: the subnet mapper's pools as its /proc files show them
 * (SPEC D14, D16) and the static administration of D19. The {@link NetmapService} reference is optional and
 * dynamic: without natpmp.netmap the page says so.
 * <ul>
 * <li>{@code GET natpmp-netmap.json} ({@link NetmapView#json})</li>
 * <li>{@code POST natpmp-netmap/bind} {@code {"prenat","postnat"}} → {@code {"prenat","postnat","pool"}}</li>
 * <li>{@code POST natpmp-netmap/unbind} {@code {"address"}} → {@code {"removed": true|false}}</li>
 * <li>{@code POST natpmp-netmap/flush} {@code {"pool": "a.b.c.d/n"}} → {@code {"removed": n}}</li>
 * </ul>
 */
@Component(service = Servlet.class, property = {
        "felix.webconsole.label=" + PageFrame.NETMAP,
        "felix.webconsole.title=NAT-PMP subnet mapping",
        "felix.webconsole.category=NAT-PMP",
        "felix.webconsole.css=/" + PageFrame.NETMAP + "/res/natpmp.css"})
public final class NatPmpNetmapPlugin extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NatPmpNetmapPlugin.class);

    private final transient String token;
    private transient volatile NetmapService netmap;

    /** Creates the plugin with a fresh random token. */
    @Activate
    public NatPmpNetmapPlugin() {
        this(HttpEdge.newToken());
    }

    NatPmpNetmapPlugin(String token) {
        this.token = token;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindNetmap(NetmapService service) {
        this.netmap = service;
    }

    void unbindNetmap(NetmapService service) {
        if (this.netmap == service) {
            this.netmap = null;
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Optional<List<NetmapView.Pool>> pools = Optional.ofNullable(this.netmap).map(NatPmpNetmapPlugin::pools);
        if (HttpEdge.wantsJson(req)) {
            HttpEdge.sendJson(resp, 200, NetmapView.json(pools, HttpEdge.links(req)));
        } else {
            HttpEdge.sendHtml(resp, NetmapView.html(pools, HttpEdge.links(req), token));
        }
    }

    static List<NetmapView.Pool> pools(NetmapService service) {
        Map<String, NetmapPoolStats> stats = service.stats().stream()
                .collect(Collectors.toMap(NetmapPoolStats::pool, Function.identity(), (a, b) -> a));
        Map<String, List<NetmapBinding>> bindings = service.bindings().stream()
                .collect(Collectors.groupingBy(NetmapBinding::pool));
        List<NetmapView.Pool> pools = new ArrayList<>();
        for (String pool : service.pools()) {
            pools.add(new NetmapView.Pool(pool, Optional.ofNullable(stats.get(pool)), service.procStat(pool),
                    service.procTable(pool), bindings.getOrDefault(pool, List.of())));
        }
        return pools;
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Optional<String> refused = HttpEdge.refusal(req, token);
        if (refused.isPresent()) {
            LOG.warn("console: refused POST {} from {}: {}", req.getRequestURI(), req.getRemoteAddr(), refused.get());
            HttpEdge.sendError(resp, 403, refused.get());
            return;
        }
        NetmapService service = this.netmap;
        if (service == null) {
            HttpEdge.sendError(resp, 503, "the subnet mapper (natpmp.netmap) is not running");
            return;
        }
        String action = HttpEdge.action(req);
        String user = NatPmpMappingsPlugin.user(req);
        try {
            Map<String, Object> body = FlatJson.parseObject(HttpEdge.body(req));
            JsonWriter out = new JsonWriter().beginObject();
            switch (action) {
                case "bind" -> {
                    Inet4Address pre = HttpEdge.ipv4(body.get("prenat"), "prenat");
                    Inet4Address post = HttpEdge.ipv4(body.get("postnat"), "postnat");
                    NetmapBinding b = service.addStatic(pre, post);
                    LOG.info("console: static netmap binding {} -> {} in {} for {}", b.prenat().getHostAddress(),
                            b.postnat().getHostAddress(), b.pool(), user);
                    out.field("prenat", b.prenat().getHostAddress()).field("postnat", b.postnat().getHostAddress())
                            .field("pool", b.pool());
                }
                case "unbind" -> {
                    Inet4Address address = HttpEdge.ipv4(body.get("address"), "address");
                    boolean removed = service.remove(address);
                    LOG.info("console: netmap unbind {} ({}) for {}", address.getHostAddress(),
                            removed ? "removed" : "no binding", user);
                    out.field("removed", removed);
                }
                case "flush" -> {
                    Object pool = body.get("pool");
                    if (!(pool instanceof String p) || !NetmapView.CIDR.matcher(p).matches()) {
                        throw new IllegalArgumentException("pool must be in CIDR notation such as 20.0.0.0/26");
                    }
                    int removed = service.flush(p);
                    LOG.info("console: netmap flush {} ({} removed) for {}", p, removed, user);
                    out.field("removed", removed);
                }
                default -> {
                    HttpEdge.sendError(resp, 404, "unknown action: " + action);
                    return;
                }
            }
            HttpEdge.sendJson(resp, 200, out.endObject().toString());
        } catch (IllegalArgumentException e) {
            // the service's own refusals (address not in a pool, prenat inside the pool...) carry the reason
            HttpEdge.sendError(resp, 400, e.getMessage());
        }
    }
}
