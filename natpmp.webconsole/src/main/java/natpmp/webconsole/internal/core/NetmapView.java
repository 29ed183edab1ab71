// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;

/** Renders the subnet mapper (DNETMAP semantics): per pool its statistics line, bindings and /proc table. */
public final class NetmapView {
    /** The configurations the page links to: the manager and the rule factory. */
    public static final List<String> PIDS = List.of("natpmp.netmap", "natpmp.netmap.rule");
    /** A pool as the service names it: a.b.c.d/len. */
    public static final Pattern CIDR = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}");

    private NetmapView() {
    }

    /**
     * One pool as shown.
     *
     * @param pool      CIDR
     * @param stats     its statistics, empty when the service had none
     * @param statLine  the text of its {@code _stat} file (D16), empty when none
     * @param procTable the text of its binding table file (D14), empty when none
     * @param bindings  its bindings
     */
    public record Pool(String pool, Optional<NetmapPoolStats> stats, Optional<String> statLine,
            Optional<String> procTable, List<NetmapBinding> bindings) {
        /** Copies the list. */
        public Pool {
            bindings = List.copyOf(bindings);
        }
    }

    /**
     * @param pools the pools, empty optional when no NetmapService is registered
     * @param links console links
     * @return {@code {"available", "pools": [{"pool", "stats": {"used","statics","all","meanTtl"}|null, "statLine",
     *         "procTable", "bindings": [{"prenat","postnat","ttl","lasthit","static","expired"}]}], "links"}}
     */
    public static String json(Optional<List<Pool>> pools, ConsoleLinks links) {
        JsonWriter json = new JsonWriter().beginObject().field("available", pools.isPresent());
        if (pools.isPresent()) {
            json.name("pools").beginArray();
            for (Pool p : pools.get()) {
                json.beginObject().field("pool", p.pool()).name("stats");
                if (p.stats().isPresent()) {
                    NetmapPoolStats s = p.stats().get();
                    json.beginObject().field("used", s.used()).field("statics", s.statics()).field("all", s.all())
                            .field("meanTtl", s.meanTtl()).endObject();
                } else {
                    json.value((String) null);
                }
                json.field("statLine", p.statLine().map(String::strip).orElse(null))
                        .field("procTable", p.procTable().orElse(null));
                json.name("bindings").beginArray();
                for (NetmapBinding b : p.bindings()) {
                    json.beginObject().field("prenat", b.prenat().getHostAddress())
                            .field("postnat", b.postnat().getHostAddress()).field("ttl", b.ttlSeconds())
                            .field("lasthit", b.lasthit()).field("static", b.staticBinding())
                            .field("expired", b.expired()).endObject();
                }
                json.endArray().endObject();
            }
            json.endArray();
        }
        links.write(json, PIDS);
        return json.endObject().toString();
    }

    /**
     * @param pools the pools, empty optional when no NetmapService is registered
     * @param links console links
     * @param token the CSRF token
     * @return the page content, every value escaped
     */
    public static String html(Optional<List<Pool>> pools, ConsoleLinks links, String token) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<div class='natpmp-summary' id='natpmp-summary'><div class='natpmp-item'>"
                + "<span class='natpmp-label'>Subnet mapper</span><span class='natpmp-value' data-key='netmap'>")
                .append(pools.isPresent() ? pools.get().size() + " pool" + (pools.get().size() == 1 ? "" : "s")
                        : "not installed or not configured (natpmp.netmap)")
                .append("</span></div></div>\n");
        b.append("<form class='natpmp-tools' id='natpmp-bind-form' autocomplete='off'>"
                + "<label>Static binding: prenat <input name='prenat' size='15' placeholder='10.0.0.5'/></label> "
                + "<label>postnat <input name='postnat' size='15' placeholder='20.0.0.9'/></label> "
                + "<button type='submit'>Bind</button></form>\n");
        b.append("<form class='natpmp-tools' id='natpmp-unbind-form' autocomplete='off'>"
                + "<label>Unbind address (either side) <input name='address' size='15'/></label> "
                + "<button type='submit'>Unbind</button></form>\n");
        b.append("<div id='natpmp-pools'>\n");
        for (Pool p : pools.orElse(List.of())) {
            b.append("<h3 class='natpmp-pool'>Pool ").append(Html.escape(p.pool())).append(" <button type='button' "
                    + "class='natpmp-flush' data-pool='").append(Html.escape(p.pool())).append("'>Flush</button></h3>\n");
            b.append("<p class='natpmp-stat'>").append(Html.escape(p.statLine().map(String::strip).orElse("")))
                    .append("<span class='natpmp-legend'>(used, static, all, mean ttl)</span></p>\n");
            b.append("<table class='nicetable natpmp-table'><thead><tr><th>Prenat</th><th>Postnat</th><th>TTL (s)</th>"
                    + "<th>lasthit</th><th>Kind</th><th>Actions</th></tr></thead><tbody>\n");
            for (NetmapBinding n : p.bindings()) {
                String pre = Html.escape(n.prenat().getHostAddress());
                b.append("<tr><td>").append(pre).append("</td><td>").append(Html.escape(n.postnat().getHostAddress()))
                        .append("</td><td>").append(n.staticBinding() ? "" : Long.toString(n.ttlSeconds()))
                        .append("</td><td>").append(n.lasthit()).append("</td><td>")
                        .append(n.staticBinding() ? "static" : n.expired() ? "expired" : "dynamic")
                        .append("</td><td><button type='button' class='natpmp-unbind' data-address='").append(pre)
                        .append("'>Unbind</button></td></tr>\n");
            }
            if (p.bindings().isEmpty()) {
                b.append("<tr class='natpmp-empty'><td colspan='6'>No bindings.</td></tr>\n");
            }
            b.append("</tbody></table>\n");
            b.append("<details><summary>/proc view</summary><pre class='natpmp-proc'>")
                    .append(Html.escape(p.procTable().orElse(""))).append("</pre></details>\n");
        }
        b.append("</div>\n");
        return PageFrame.wrap(links, PageFrame.NETMAP, token, b.toString(), PIDS);
    }
}
