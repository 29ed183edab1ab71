// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.Locale;
import java.util.Optional;

import natpmp.api.BackendHealth;
import natpmp.api.Mapping;
import natpmp.api.MappingSnapshot;
import natpmp.api.Origin;
import natpmp.api.Protocol;

/** Renders a {@link MappingSnapshot} as the mappings page and as its JSON document. */
public final class MappingsView {
    private MappingsView() {
    }

    /**
     * The JSON document ({@code GET .../natpmp-mappings.json}).
     *
     * @param snapshot the service state, empty while no MappingService is registered
     * @param links    console links
     * @return {@code {"available", "taken", "enabled", "epoch", "externalAddress", "backend", "health", "totals",
     *         "mappings": [...], "links"}}
     */
    public static String json(Optional<MappingSnapshot> snapshot, ConsoleLinks links) {
        JsonWriter json = new JsonWriter().beginObject();
        json.field("available", snapshot.isPresent());
        if (snapshot.isPresent()) {
            MappingSnapshot s = snapshot.get();
            json.field("taken", s.taken().toString()).field("enabled", s.enabled()).field("epoch", s.epochSeconds());
            json.field("externalAddress", s.externalAddress().map(a -> a.getHostAddress()).orElse(null));
            json.field("backend", s.backend().orElse(null));
            json.name("health");
            writeHealth(json, s.health());
            Totals t = Totals.of(s);
            json.name("totals").beginObject().field("mappings", t.mappings()).field("clients", t.clients())
                    .field("udp", t.udp()).field("tcp", t.tcp()).field("static", t.statics()).endObject();
            json.name("mappings").beginArray();
            for (Mapping m : s.mappings()) {
                json.beginObject().field("client", m.client().getHostAddress())
                        .field("protocol", m.protocol().name()).field("internalPort", m.internalPort())
                        .field("externalPort", m.externalPort()).field("lifetime", m.lifetime())
                        .field("remaining", m.remaining()).field("origin", m.origin().name()).endObject();
            }
            json.endArray();
        }
        links.write(json);
        return json.endObject().toString();
    }

    static void writeHealth(JsonWriter json, Optional<BackendHealth> health) {
        if (health.isEmpty()) {
            json.value((String) null);
            return;
        }
        BackendHealth h = health.get();
        json.beginObject().field("backend", h.backend()).field("state", h.state().name())
                .field("since", h.since().toString()).field("lastError", h.lastError().orElse(null))
                .field("repairs", h.repairs()).endObject();
    }

    /**
     * The page content (inside the console frame); the script then refreshes it from the JSON document.
     *
     * @param snapshot the service state, empty while no MappingService is registered
     * @param links    console links
     * @param token    the CSRF token for the page's POSTs
     * @return the HTML fragment, every value escaped
     */
    public static String html(Optional<MappingSnapshot> snapshot, ConsoleLinks links, String token) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<div class='natpmp-summary' id='natpmp-summary'>\n");
        if (snapshot.isEmpty()) {
            b.append(item("Service", "not running (no NAT-PMP configuration, or it was rejected)", "service", "FAILED"));
        } else {
            MappingSnapshot s = snapshot.get();
            Totals t = Totals.of(s);
            b.append(item("Service", s.enabled() ? "enabled" : "disabled", "service", s.enabled() ? "OK" : "DEGRADED"));
            b.append(item("External address", s.externalAddress().map(a -> a.getHostAddress()).orElse("none"),
                    "external", s.externalAddress().isPresent() ? "OK" : "DEGRADED"));
            b.append(item("Epoch", s.epochSeconds() + " s", "epoch", null));
            b.append(item("Backend", s.backend().orElse("none") + s.health().map(h -> " (" + h.state() + ")").orElse(""),
                    "backend", s.health().map(h -> h.state().name()).orElse("FAILED")));
            b.append(item("Mappings", t.mappings() + " (" + t.udp() + " UDP, " + t.tcp() + " TCP, " + t.statics()
                    + " static) for " + t.clients() + " client" + (t.clients() == 1 ? "" : "s"), "totals", null));
            b.append(item("Updated", Times.display(s.taken()), "taken", null));
            s.health().flatMap(BackendHealth::lastError).ifPresent(e -> b.append(item("Last error", e, "error",
                    "FAILED")));
        }
        b.append("</div>\n");
        b.append("<div class='natpmp-tools'><label for='natpmp-filter'>Filter</label> <input type='search' "
                + "id='natpmp-filter' placeholder='client, port, protocol or origin' autocomplete='off'/> "
                + "<span id='natpmp-shown'></span></div>\n");
        b.append("<table class='nicetable natpmp-table' id='natpmp-mappings'>\n<thead><tr>");
        for (String[] col : new String[][] {{"client", "Client"}, {"protocol", "Protocol"},
                {"internalPort", "Internal port"}, {"externalPort", "External port"}, {"remaining", "Lifetime left"},
                {"origin", "Origin"}}) {
            b.append("<th data-key='").append(col[0]).append("' class='natpmp-sortable' tabindex='0'>")
                    .append(col[1]).append("</th>");
        }
        b.append("<th>Actions</th></tr></thead>\n<tbody>\n");
        snapshot.ifPresent(s -> {
            for (Mapping m : s.mappings()) {
                b.append(row(m));
            }
        });
        if (snapshot.map(s -> s.mappings().isEmpty()).orElse(true)) {
            b.append("<tr class='natpmp-empty'><td colspan='7'>No mappings.</td></tr>\n");
        }
        b.append("</tbody></table>\n");
        return PageFrame.wrap(links, PageFrame.MAPPINGS, token, b.toString());
    }

    private static String item(String label, String value, String key, String state) {
        return "<div class='natpmp-item'><span class='natpmp-label'>" + Html.escape(label)
                + "</span><span class='natpmp-value" + (state == null ? "" : " natpmp-" + state.toLowerCase(Locale.ROOT))
                + "' data-key='" + Html.escape(key) + "'>" + Html.escape(value) + "</span></div>\n";
    }

    private static String row(Mapping m) {
        String client = Html.escape(m.client().getHostAddress());
        return "<tr><td>" + client + "</td><td>" + m.protocol().name() + "</td><td>" + m.internalPort() + "</td><td>"
                + m.externalPort() + "</td><td>" + remaining(m) + "</td><td>" + m.origin().name() + "</td><td>"
                + "<button type='button' class='natpmp-delete' data-client='" + client + "' data-protocol='"
                + m.protocol().name() + "' data-port='" + m.internalPort() + "'>Delete</button> "
                + "<button type='button' class='natpmp-delete-client' data-client='" + client
                + "'>Delete all of client</button></td></tr>\n";
    }

    /**
     * @param m a mapping
     * @return "never" for static mappings, otherwise h/m/s left
     */
    public static String remaining(Mapping m) {
        if (m.origin() == Origin.STATIC && m.remaining() == 0) {
            return "never";
        }
        long s = m.remaining();
        return s >= 3600 ? String.format("%dh %02dm %02ds", s / 3600, s / 60 % 60, s % 60)
                : s >= 60 ? String.format("%dm %02ds", s / 60, s % 60) : s + "s";
    }

    /** Counts for the summary line. */
    record Totals(int mappings, long clients, long udp, long tcp, long statics) {
        static Totals of(MappingSnapshot s) {
            return new Totals(s.mappings().size(), s.mappings().stream().map(Mapping::client).distinct().count(),
                    s.mappings().stream().filter(m -> m.protocol() == Protocol.UDP).count(),
                    s.mappings().stream().filter(m -> m.protocol() == Protocol.TCP).count(),
                    s.mappings().stream().filter(m -> m.origin() == Origin.STATIC).count());
        }
    }
}
