// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.NetmapService;
import natpmp.netmap.internal.core.Ipv4;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo shell commands {@code netmap:table|stat|bind|unbind|flush}, printing the DNETMAP {@code /proc} texts and
 * doing the v2 procfs writes (D19). Gogo finds them by the {@code osgi.command.*} service properties; no Gogo
 * API is needed.
 */
@Component(service = NetmapCommands.class, property = {"osgi.command.scope=netmap",
        "osgi.command.function=table", "osgi.command.function=stat", "osgi.command.function=bind",
        "osgi.command.function=unbind", "osgi.command.function=flush"})
public final class NetmapCommands {
    private final NetmapService netmap;

    /** @param netmap the mapper */
    @Activate
    public NetmapCommands(@Reference NetmapService netmap) {
        this.netmap = netmap;
    }

    /**
     * {@code netmap:table} — the binding tables of all pools, each under a {@code ==> <net>_<bits> <==} header.
     *
     * @return the text
     */
    public String table() {
        StringBuilder out = new StringBuilder();
        for (String pool : netmap.pools()) {
            out.append("==> ").append(pool.replace('/', '_')).append(" <==\n");
            out.append(netmap.procTable(pool).orElse(""));
        }
        return out.toString();
    }

    /**
     * {@code netmap:table <pool>} — the text of {@code /proc/net/xt_DNETMAP/<net>_<bits>} (D14).
     *
     * @param pool {@code 20.0.0.0/26} or {@code 20.0.0.0_26}
     * @return the text
     */
    public String table(String pool) {
        return netmap.procTable(pool).orElseGet(() -> "no pool " + pool + "\n");
    }

    /**
     * {@code netmap:stat} — the statistics lines of all pools.
     *
     * @return the text
     */
    public String stat() {
        StringBuilder out = new StringBuilder();
        for (String pool : netmap.pools()) {
            out.append(pool.replace('/', '_')).append("_stat: ").append(netmap.procStat(pool).orElse("\n"));
        }
        return out.toString();
    }

    /**
     * {@code netmap:stat <pool>} — the text of {@code /proc/net/xt_DNETMAP/<net>_<bits>_stat} (D16).
     *
     * @param pool the pool
     * @return the text
     */
    public String stat(String pool) {
        return netmap.procStat(pool).orElseGet(() -> "no pool " + pool + "\n");
    }

    /**
     * {@code netmap:bind <prenat> <postnat>} — adds a static binding (procfs {@code +pre:post}).
     *
     * @param prenat  the private address
     * @param postnat the public address
     * @return what happened
     */
    public String bind(String prenat, String postnat) {
        try {
            netmap.addStatic(Ipv4.toAddress(Ipv4.parse(prenat)), Ipv4.toAddress(Ipv4.parse(postnat)));
            return "static binding " + prenat + ":" + postnat + "\n";
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage() + "\n";
        }
    }

    /**
     * {@code netmap:unbind <address>} — removes the binding of a prenat or postnat address (procfs {@code -addr}).
     *
     * @param address either side
     * @return what happened
     */
    public String unbind(String address) {
        try {
            return netmap.remove(Ipv4.toAddress(Ipv4.parse(address))) ? "removed\n" : "no binding of " + address + "\n";
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage() + "\n";
        }
    }

    /**
     * {@code netmap:flush <pool>} — unbinds every binding of a pool (procfs {@code flush}).
     *
     * @param pool the pool
     * @return what happened
     */
    public String flush(String pool) {
        try {
            return netmap.flush(pool) + " bindings flushed\n";
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage() + "\n";
        }
    }
}
