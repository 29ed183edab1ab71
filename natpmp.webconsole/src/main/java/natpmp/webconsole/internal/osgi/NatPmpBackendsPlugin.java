// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import natpmp.api.FirewallBackend;
import natpmp.api.MappingService;
import natpmp.api.MappingSnapshot;
import natpmp.webconsole.internal.core.BackendRow;
import natpmp.webconsole.internal.core.BackendsView;
import natpmp.webconsole.internal.core.FlatJson;
import natpmp.webconsole.internal.core.JsonWriter;
import natpmp.webconsole.internal.core.PageFrame;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Web Console page {@code /system/console/natpmp-backends}: every installed {@link FirewallBackend} (name,
 * ranking, health, last error), the one the NAT-PMP service uses, and switching.
 * <ul>
 * <li>{@code GET natpmp-backends} the page; {@code GET natpmp-backends.json} the data ({@link BackendsView#json})</li>
 * <li>{@code POST natpmp-backends/select} {@code {"backend": "nftables"}} → writes
 * {@code backend.target=(natpmp.backend=nftables)} into the {@value #SERVICE_PID} configuration, keeping every
 * other key; SCR then rebinds the listener live → {@code {"target": "(natpmp.backend=nftables)"}}</li>
 * </ul>
 */
@Component(service = Servlet.class, property = {
        "felix.webconsole.label=" + PageFrame.BACKENDS,
        "felix.webconsole.title=NAT-PMP backends",
        "felix.webconsole.category=NAT-PMP",
        "felix.webconsole.css=/" + PageFrame.BACKENDS + "/res/natpmp.css"})
public final class NatPmpBackendsPlugin extends HttpServlet {
    /** The NAT-PMP listener's configuration PID. */
    static final String SERVICE_PID = "natpmp.service";
    /** Its key selecting the backend (the listener's reference is named {@code backend}). */
    static final String TARGET_KEY = "backend.target";

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NatPmpBackendsPlugin.class);

    private final transient String token;
    private final transient ConfigurationAdmin cm;
    private final transient Map<Long, Tracked> backends = new ConcurrentHashMap<>();
    private transient volatile MappingService mappings;

    /** A tracked backend service and its properties at bind time. */
    record Tracked(FirewallBackend service, String name, int ranking, long serviceId, String bundle) {
    }

    /**
     * @param cm ConfigurationAdmin, to read and write the {@value #SERVICE_PID} configuration
     */
    @Activate
    public NatPmpBackendsPlugin(@Reference ConfigurationAdmin cm) {
        this(cm, HttpEdge.newToken());
    }

    NatPmpBackendsPlugin(ConfigurationAdmin cm, String token) {
        this.cm = cm;
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

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            updated = "updatedBackend", unbind = "unbindBackend")
    void bindBackend(ServiceReference<FirewallBackend> ref, FirewallBackend backend) {
        track(ref, backend);
    }

    void updatedBackend(ServiceReference<FirewallBackend> ref, FirewallBackend backend) {
        track(ref, backend);
    }

    void unbindBackend(ServiceReference<FirewallBackend> ref) {
        backends.remove((Long) ref.getProperty(Constants.SERVICE_ID));
    }

    private void track(ServiceReference<FirewallBackend> ref, FirewallBackend backend) {
        Object name = ref.getProperty(FirewallBackend.BACKEND_PROPERTY);
        Object ranking = ref.getProperty(Constants.SERVICE_RANKING);
        long id = (Long) ref.getProperty(Constants.SERVICE_ID);
        String bundle = ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
        add(new Tracked(backend, name instanceof String s ? s : String.valueOf(name),
                ranking instanceof Integer r ? r : 0, id, bundle));
    }

    void add(Tracked tracked) {
        backends.put(tracked.serviceId(), tracked);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        BackendsView.Model model = model();
        if (HttpEdge.wantsJson(req)) {
            HttpEdge.sendJson(resp, 200, BackendsView.json(model, HttpEdge.links(req)));
        } else {
            HttpEdge.sendHtml(resp, BackendsView.html(model, HttpEdge.links(req), token));
        }
    }

    BackendsView.Model model() {
        List<BackendRow> rows = new ArrayList<>();
        for (Tracked t : backends.values()) {
            try {
                rows.add(new BackendRow(t.name(), t.ranking(), t.serviceId(), t.bundle(),
                        Optional.of(t.service().health()), Optional.empty()));
            } catch (RuntimeException e) {
                // a backend that cannot report its health is shown as such, not hidden
                rows.add(new BackendRow(t.name(), t.ranking(), t.serviceId(), t.bundle(), Optional.empty(),
                        Optional.of("health() failed: " + e)));
            }
        }
        MappingService service = this.mappings;
        Optional<MappingSnapshot> snapshot = Optional.ofNullable(service).map(MappingService::snapshot);
        return new BackendsView.Model(rows, snapshot.flatMap(MappingSnapshot::backend), currentTarget(),
                snapshot.isPresent());
    }

    private Optional<String> currentTarget() {
        try {
            Configuration[] found = cm.listConfigurations("(" + Constants.SERVICE_PID + "=" + SERVICE_PID + ")");
            if (found == null || found.length == 0 || found[0].getProperties() == null) {
                return Optional.empty();
            }
            Object target = found[0].getProperties().get(TARGET_KEY);
            return target == null ? Optional.empty() : Optional.of(String.valueOf(target));
        } catch (IOException | InvalidSyntaxException e) {
            LOG.debug("console: cannot read {}: {}", SERVICE_PID, e.toString());
            return Optional.empty();
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
        if (!"select".equals(HttpEdge.action(req))) {
            HttpEdge.sendError(resp, 404, "unknown action: " + HttpEdge.action(req));
            return;
        }
        String name;
        try {
            Object value = FlatJson.parseObject(HttpEdge.body(req)).get("backend");
            if (!(value instanceof String s) || !BackendsView.NAME.matcher(s).matches()) {
                throw new IllegalArgumentException("backend must be the natpmp.backend name of an installed backend");
            }
            name = s;
        } catch (IllegalArgumentException e) {
            HttpEdge.sendError(resp, 400, e.getMessage());
            return;
        }
        if (backends.values().stream().noneMatch(t -> t.name().equals(name))) {
            HttpEdge.sendError(resp, 409, "no backend named " + name + " is installed");
            return;
        }
        Configuration[] existing;
        try {
            existing = cm.listConfigurations("(" + Constants.SERVICE_PID + "=" + SERVICE_PID + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (existing == null || existing.length == 0) {
            // creating it here would start the listener without its LAN settings (configurationPolicy REQUIRE)
            HttpEdge.sendError(resp, 409, SERVICE_PID + " has no configuration yet; configure the service first");
            return;
        }
        String target = BackendsView.target(name);
        Configuration config = cm.getConfiguration(SERVICE_PID, "?");
        Dictionary<String, Object> properties = config.getProperties();
        properties.put(TARGET_KEY, target);
        config.update(properties);
        LOG.info("console: {} set to {} in {} for {}", TARGET_KEY, target, SERVICE_PID, NatPmpMappingsPlugin.user(req));
        HttpEdge.sendJson(resp, 200, new JsonWriter().beginObject().field("target", target).endObject().toString());
    }
}
