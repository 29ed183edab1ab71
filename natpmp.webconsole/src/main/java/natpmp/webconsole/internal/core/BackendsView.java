// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import natpmp.api.BackendHealth;

/** Renders the installed firewall backends, the one in use and the configured selection. */
public final class BackendsView {
    /** Backend names the page can select: what a {@code natpmp.backend} filter value may safely hold. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private BackendsView() {
    }

    /**
     * What the page shows.
     *
     * @param backends installed backends
     * @param inUse    the backend the NAT-PMP service uses now (from its snapshot), empty when none or no service
     * @param target   the {@code backend.target} of the {@code natpmp.service} configuration, empty when unset
     * @param service  whether the NAT-PMP service is running
     */
    public record Model(List<BackendRow> backends, Optional<String> inUse, Optional<String> target, boolean service) {
        /** Sorts the backends: highest ranking first (the default choice), then by name. */
        public Model {
            backends = backends.stream().sorted(Comparator.comparingInt(BackendRow::ranking).reversed()
                    .thenComparing(BackendRow::name).thenComparingLong(BackendRow::serviceId)).toList();
        }
    }

    /**
     * @param name a backend name, already checked against {@link #NAME}
     * @return the {@code backend.target} filter selecting it
     */
    public static String target(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid backend name: " + name);
        }
        return "(natpmp.backend=" + name + ")";
    }

    /**
     * The JSON document ({@code GET .../natpmp-backends.json}).
     *
     * @param model what to show
     * @param links console links
     * @return {@code {"service", "inUse", "target", "backends": [{"name", "ranking", "serviceId", "bundle", "inUse",
     *         "health": {...}|null, "problem"}], "links"}}
     */
    public static String json(Model model, ConsoleLinks links) {
        JsonWriter json = new JsonWriter().beginObject();
        json.field("service", model.service()).field("inUse", model.inUse().orElse(null))
                .field("target", model.target().orElse(null));
        json.name("backends").beginArray();
        for (BackendRow r : model.backends()) {
            json.beginObject().field("name", r.name()).field("ranking", r.ranking()).field("serviceId", r.serviceId())
                    .field("bundle", r.bundle()).field("inUse", model.inUse().map(r.name()::equals).orElse(false));
            json.name("health");
            MappingsView.writeHealth(json, r.health());
            json.field("problem", r.problem().orElse(null)).endObject();
        }
        json.endArray();
        links.write(json);
        return json.endObject().toString();
    }

    /**
     * @param model what to show
     * @param links console links
     * @param token the CSRF token for the page's POSTs
     * @return the page content, every value escaped
     */
    public static String html(Model model, ConsoleLinks links, String token) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<div class='natpmp-summary' id='natpmp-summary'>\n");
        b.append("<div class='natpmp-item'><span class='natpmp-label'>In use</span><span class='natpmp-value' "
                + "data-key='inUse'>").append(Html.escape(model.inUse().orElse(model.service() ? "none"
                        : "none (NAT-PMP service not running)"))).append("</span></div>\n");
        b.append("<div class='natpmp-item'><span class='natpmp-label'>Selection (backend.target)</span>"
                + "<span class='natpmp-value' data-key='target'>")
                .append(Html.escape(model.target().orElse("(natpmp.backend=*) — highest service.ranking")))
                .append("</span></div>\n</div>\n");
        b.append("<table class='nicetable natpmp-table' id='natpmp-backends'>\n<thead><tr><th>Backend</th>"
                + "<th>service.ranking</th><th>Health</th><th>Since</th><th>Repairs</th><th>Last error</th>"
                + "<th>Bundle / service id</th><th>Actions</th></tr></thead>\n<tbody>\n");
        for (BackendRow r : model.backends()) {
            boolean inUse = model.inUse().map(r.name()::equals).orElse(false);
            String state = r.health().map(h -> h.state().name()).orElse("FAILED");
            b.append("<tr").append(inUse ? " class='natpmp-in-use'" : "").append("><td>")
                    .append(Html.escape(r.name())).append(inUse ? " <strong>(in use)</strong>" : "")
                    .append("</td><td>").append(r.ranking()).append("</td><td class='natpmp-")
                    .append(state.toLowerCase(Locale.ROOT)).append("'>").append(Html.escape(state))
                    .append("</td><td>").append(Html.escape(r.health().map(h -> Times.display(h.since())).orElse("")))
                    .append("</td><td>").append(r.health().map(BackendHealth::repairs).orElse(0L))
                    .append("</td><td class='natpmp-error'>")
                    .append(Html.escape(r.problem().orElse(r.health().flatMap(BackendHealth::lastError).orElse(""))))
                    .append("</td><td>").append(Html.escape(r.bundle())).append(" #").append(r.serviceId())
                    .append("</td><td>");
            if (!inUse && NAME.matcher(r.name()).matches()) {
                b.append("<button type='button' class='natpmp-select' data-backend='").append(Html.escape(r.name()))
                        .append("'>Use ").append(Html.escape(r.name())).append("</button>");
            }
            b.append("</td></tr>\n");
        }
        if (model.backends().isEmpty()) {
            b.append("<tr class='natpmp-empty'><td colspan='8'>No firewall backend is installed.</td></tr>\n");
        }
        b.append("</tbody></table>\n");
        return PageFrame.wrap(links, PageFrame.BACKENDS, token, b.toString());
    }
}
