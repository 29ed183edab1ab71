// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.List;

/**
 * Where the console's own pages are, relative to its root ({@code /system/console} by default).
 *
 * @param appRoot the console root path, without a trailing slash
 */
public record ConsoleLinks(String appRoot) {
    /** PIDs whose configuration forms the pages link to. */
    public static final List<String> PIDS = List.of("natpmp.service", "natpmp.iptables", "natpmp.nftables");

    /** Strips a trailing slash. */
    public ConsoleLinks {
        appRoot = appRoot == null ? "" : appRoot.replaceAll("/+$", "");
    }

    /**
     * @param pid a configuration PID
     * @return the console's configuration form for it
     */
    public String config(String pid) {
        return appRoot + "/configMgr/" + pid;
    }

    /**
     * @param label a plugin label
     * @return the plugin page
     */
    public String page(String label) {
        return appRoot + "/" + label;
    }

    /** Writes {@code "links": {pid: url, ...}} for {@link #PIDS}. */
    void write(JsonWriter json) {
        write(json, PIDS);
    }

    /** Writes {@code "links": {pid: url, ...}}. */
    void write(JsonWriter json, List<String> pids) {
        json.name("links").beginObject();
        for (String pid : pids) {
            json.field(pid, config(pid));
        }
        json.endObject();
    }

    /** @return the configuration links of {@link #PIDS} as an HTML paragraph */
    String html() {
        return html(PIDS);
    }

    /** @return the configuration links as an HTML paragraph */
    String html(List<String> pids) {
        StringBuilder b = new StringBuilder("<p class='natpmp-links'>Configuration: ");
        for (String pid : pids) {
            b.append("<a href='").append(Html.escape(config(pid))).append("'>").append(Html.escape(pid))
                    .append("</a> ");
        }
        return b.append("</p>").toString();
    }
}
