// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.FirewallBackend;
import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;
import natpmp.api.NetmapService;
import natpmp.netmap.internal.net.BindingStore;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.net.Inet4Address;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The subnet mapper (DNETMAP semantics, SPEC section C) as a DS component, PID {@value #PID}. It owns the
 * engine on one thread, takes its rules from the {@code natpmp.netmap.rule} factory configurations, programs
 * the bindings into the firewall backend (owner {@code netmap}) and saves them in the bundle data area.
 *
 * <h2>Configuration keys, hot or cold</h2>
 * Every key applies in place; an invalid update is logged and the previous settings stay.
 * <table>
 * <caption>Keys</caption>
 * <tr><th>key</th><th>default</th><th>in place means</th></tr>
 * <tr><td>external.interface</td><td>(required)</td><td>full reconcile with the new topology</td></tr>
 * <tr><td>default_ttl</td><td>600</td><td>rules without their own ttl use it from the next hit</td></tr>
 * <tr><td>log</td><td>true</td><td>false suppresses add/timeout/remove/no-free lines (disable_log)</td></tr>
 * <tr><td>dnat_expired</td><td>true</td><td>next DNAT decision (D8)</td></tr>
 * <tr><td>lasthit_kernel</td><td>false</td><td>next table read (D15)</td></tr>
 * <tr><td>conntrack.enabled, conntrack.command</td><td>true, conntrack -E -e NEW -o timestamp</td><td>monitor
 * restarted</td></tr>
 * <tr><td>conntrack.bind</td><td>false</td><td>next event</td></tr>
 * <tr><td>queue.enabled, queue.number</td><td>true, 4660</td><td>queue closed and opened again; the queue rules
 * follow in the next reconcile</td></tr>
 * <tr><td>backend.target</td><td>(natpmp.backend=*)</td><td>SCR rebinds; the new backend gets everything, then
 * the old one is released</td></tr>
 * </table>
 * Rules come and go live: pools that stay keep their bindings (D2).
 */
@Component(service = NetmapService.class, configurationPid = NetmapManager.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = NetmapManager.Config.class)
public final class NetmapManager implements NetmapService {
    /** The configuration PID. */
    public static final String PID = "natpmp.netmap";
    /** Name of the bindings file in the bundle's data area. */
    public static final String BINDINGS_FILE = "netmap-bindings.txt";

    private static final Logger LOG = LoggerFactory.getLogger(NetmapManager.class);

    /**
     * The global settings (Metatype). A single underscore becomes a dot ({@code external.interface}), a double
     * one an underscore ({@code default_ttl}).
     */
    @ObjectClassDefinition(name = "Subnet mapper (DNETMAP)", description = "Dynamic 1:1 mapping of private hosts"
            + " onto public pools; rules are natpmp.netmap.rule factory configurations.")
    public @interface Config {
        /** @return the WAN interface */
        @AttributeDefinition(name = "External interface", description = "The WAN interface the bindings apply on.")
        String external_interface() default "";

        /** @return default ttl in seconds */
        @AttributeDefinition(name = "Default TTL (s)", description = "ttl of rules without their own (default_ttl).",
                min = "0")
        long default__ttl() default 600;

        /** @return whether per-binding lines are logged */
        @AttributeDefinition(name = "Log bindings", description = "Off = disable_log: no add/timeout/remove/no-free"
                + " lines.")
        boolean log() default true;

        /** @return whether expired bindings still DNAT */
        @AttributeDefinition(name = "DNAT expired bindings", description = "On (kernel behaviour): an expired"
                + " binding not yet reused still receives inbound connections and is refreshed by them.")
        boolean dnat__expired() default true;

        /** @return kernel lasthit formula */
        @AttributeDefinition(name = "Kernel lasthit formula", description = "Print lasthit as (stamp - default_ttl)"
                + " like the kernel instead of the monotonic second of the last hit.")
        boolean lasthit__kernel() default false;

        /** @return whether conntrack events refresh bindings */
        @AttributeDefinition(name = "Refresh from conntrack", description = "Run the conntrack event monitor: each new"
                + " connection of a bound host refreshes its ttl as the kernel target does (D6). Needs root and"
                + " conntrack-tools; without it bindings expire after their ttl however busy the host is.")
        boolean conntrack_enabled() default true;

        /** @return the monitor's argv */
        @AttributeDefinition(name = "conntrack command", description = "argv of the monitor, no shell; each value"
                + " is split at spaces.")
        String[] conntrack_command() default {"conntrack", "-E", "-e", "NEW", "-o", "timestamp"};

        /** @return whether conntrack events bind new hosts */
        @AttributeDefinition(name = "Bind from conntrack", description = "Also bind hosts without a binding when"
                + " conntrack reports their new connection; that first connection itself is not translated.")
        boolean conntrack_bind() default false;

        /** @return whether first packets of unbound hosts are taken from an NFQUEUE */
        @AttributeDefinition(name = "First packets from NFQUEUE", description = "Bind hosts from the first packet"
                + " of their first connection, held in NFQUEUE queue.number until the binding is in the kernel; the"
                + " firewall backend installs the queue rule while the queue is open. Needs root and JNA; off, new"
                + " hosts are bound only from conntrack (conntrack.bind) or statically.")
        boolean queue_enabled() default true;

        /** @return the NFQUEUE number */
        @AttributeDefinition(name = "NFQUEUE number", min = "0", max = "65535")
        int queue_number() default 4660;

        /** @return filter selecting the firewall backend */
        @AttributeDefinition(name = "Firewall backend filter", description = "e.g. (natpmp.backend=nftables)")
        String backend_target() default "(natpmp.backend=*)";
    }

    private final NetmapRuntime runtime;

    /**
     * @param context the bundle context (for the data area)
     * @param config  the configuration
     * @throws IllegalArgumentException with a precise message when the configuration is invalid
     */
    @Activate
    public NetmapManager(BundleContext context, Config config) {
        this(ManagerSettings.parse(config), Optional.ofNullable(context.getDataFile(BINDINGS_FILE)).map(File::toPath),
                NetmapRuntime.Params.production());
    }

    NetmapManager(ManagerSettings settings, Optional<Path> file, NetmapRuntime.Params params) {
        this.runtime = new NetmapRuntime(settings, file.map(BindingStore::new), params);
    }

    @Modified
    void modified(Config config) {
        try {
            runtime.reconfigure(ManagerSettings.parse(config));
        } catch (IllegalArgumentException e) {
            LOG.warn("netmap: configuration {} rejected, keeping the previous settings: {}", PID, e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        runtime.close();
    }

    /** @param backend the backend; only queues work on the loop */
    @Reference(name = "backend", service = FirewallBackend.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindBackend")
    void bindBackend(FirewallBackend backend) {
        runtime.backendBound(backend);
    }

    void unbindBackend(FirewallBackend backend) {
        runtime.backendUnbound(backend);
    }

    /** @param rule a configured rule */
    @Reference(name = "rule", service = RuleSource.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, updated = "updatedRule",
            unbind = "unbindRule")
    void bindRule(RuleSource rule) {
        runtime.ruleAdded(rule, rule.rule());
    }

    void updatedRule(RuleSource rule) {
        runtime.ruleAdded(rule, rule.rule()); // replaces: the pool is never without a rule (D2)
    }

    void unbindRule(RuleSource rule) {
        runtime.ruleRemoved(rule);
    }

    NetmapRuntime runtime() {
        return runtime;
    }

    @Override
    public List<String> pools() {
        return runtime.pools();
    }

    @Override
    public List<NetmapBinding> bindings() {
        return runtime.bindings();
    }

    @Override
    public List<NetmapPoolStats> stats() {
        return runtime.stats();
    }

    @Override
    public NetmapBinding addStatic(Inet4Address prenat, Inet4Address postnat) {
        return runtime.addStatic(prenat, postnat);
    }

    @Override
    public boolean remove(Inet4Address address) {
        return runtime.remove(address);
    }

    @Override
    public int flush(String pool) {
        return runtime.flush(pool);
    }

    @Override
    public Optional<String> procTable(String pool) {
        return runtime.procTable(pool);
    }

    @Override
    public Optional<String> procStat(String pool) {
        return runtime.procStat(pool);
    }
}
