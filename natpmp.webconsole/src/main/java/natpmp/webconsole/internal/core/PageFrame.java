// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.util.List;

/**
 * The parts every NAT-PMP console page shares: the tab bar, the root element carrying what the script needs
 * (JSON address, POST address, token) as escaped data attributes, and the script tag. No inline script: values
 * never travel through JavaScript source.
 */
public final class PageFrame {
    /** Label of the mappings page. */
    public static final String MAPPINGS = "natpmp-mappings";
    /** Label of the backends page. */
    public static final String BACKENDS = "natpmp-backends";
    /** Label of the subnet mapper page. */
    public static final String NETMAP = "natpmp-netmap";

    /** The pages in tab order: label and title. A new page adds its label here and a servlet of its own. */
    static final List<String[]> TABS = List.of(new String[] {MAPPINGS, "Mappings"},
            new String[] {BACKENDS, "Backends"}, new String[] {NETMAP, "Subnet mapping"});

    private PageFrame() {
    }

    /**
     * @param links   console links
     * @param current the label of this page
     * @param token   the page's CSRF token
     * @param body    the page's own HTML (already escaped)
     * @return the whole content fragment
     */
    static String wrap(ConsoleLinks links, String current, String token, String body) {
        return wrap(links, current, token, body, ConsoleLinks.PIDS);
    }

    /**
     * @param links   console links
     * @param current the label of this page
     * @param token   the page's CSRF token
     * @param body    the page's own HTML (already escaped)
     * @param pids    the configurations to link to
     * @return the whole content fragment
     */
    static String wrap(ConsoleLinks links, String current, String token, String body, List<String> pids) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<div class='natpmp' id='natpmp-page' data-page='").append(Html.escape(current))
                .append("' data-json='").append(Html.escape(links.page(current) + ".json"))
                .append("' data-post='").append(Html.escape(links.page(current) + "/"))
                .append("' data-csrf='").append(Html.escape(token)).append("'>\n");
        b.append("<nav class='natpmp-tabs'>");
        for (String[] tab : TABS) {
            b.append("<a href='").append(Html.escape(links.page(tab[0]))).append("'")
                    .append(tab[0].equals(current) ? " class='natpmp-current' aria-current='page'" : "").append(">")
                    .append(Html.escape(tab[1])).append("</a>");
        }
        b.append("<a href='").append(Html.escape(links.page(current) + ".json")).append("' class='natpmp-json'>JSON</a>");
        b.append("</nav>\n");
        b.append(body);
        b.append("<p class='natpmp-message' id='natpmp-message' role='status' aria-live='polite'></p>\n");
        b.append(links.html(pids)).append('\n');
        b.append("</div>\n");
        b.append("<script src='").append(Html.escape(links.page(current) + "/res/natpmp.js")).append("'></script>\n");
        return b.toString();
    }
}
