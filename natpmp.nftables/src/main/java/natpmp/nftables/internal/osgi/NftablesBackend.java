// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.osgi;

import java.time.InstantSource;
import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.exec.SystemProcessRunner;
import natpmp.nftables.internal.core.NftSettings;
import natpmp.nftables.internal.exec.NftEngine;
import natpmp.nftables.internal.exec.NftEngines;
import natpmp.nftables.internal.exec.NftablesFirewall;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nftables firewall backend as a DS component: owns the one table {@code ip natpmp} (static chains, the
 * mappings in maps and sets per owner), changes it in atomic transactions (libnftables in-process, or one
 * {@code nft -f -} each), watches it, and deletes it when deactivated.
 *
 * <p>All keys are hot ({@link Modified}): {@code timeout.ms} applies to the next command,
 * {@code watch.interval.ms} reschedules the watchdog, {@code table} moves every owner to the new table,
 * {@code engine} switches between two transactions (the table stays; a LIBRARY that cannot load is logged and
 * the previous engine kept), {@code service.ranking} is a service property SCR updates itself.
 */
@Component(service = FirewallBackend.class, configurationPid = NftablesBackend.PID, immediate = true)
@Designate(ocd = NftablesBackend.Config.class)
@NatpmpBackend(backend = NftablesFirewall.NAME)
public final class NftablesBackend implements FirewallBackend {
    /** The configuration PID. */
    public static final String PID = "natpmp.nftables";

    private static final Logger LOG = LoggerFactory.getLogger(NftablesBackend.class);

    /** Configuration of the nftables backend. */
    @ObjectClassDefinition(id = PID, name = "NAT-PMP nftables backend",
            description = "Firewall backend on nftables: programs port forwards and 1:1 bindings into maps and sets"
                    + " of one table it owns.")
    public @interface Config {
        /** @return the name of the ip table the backend owns */
        @AttributeDefinition(name = "Table",
                description = "Name of the 'ip' family table the backend creates and owns; [a-z][a-z0-9_]{0,31}.")
        String table() default NftSettings.DEFAULT_TABLE;

        /** @return how long one nft command may run, in milliseconds */
        @AttributeDefinition(name = "Command timeout (ms)", description = "How long one nft command may run, 100..600000.")
        long timeout_ms() default 5000;

        /** @return how often the watchdog checks the table, in milliseconds */
        @AttributeDefinition(name = "Watchdog interval (ms)",
                description = "How often to check that our table is intact and restore it; 0 = off.")
        long watch_interval_ms() default 1000;

        /** @return how transactions reach the kernel: AUTO, LIBRARY or PROCESS */
        @AttributeDefinition(name = "Engine",
                description = "LIBRARY: libnftables.so.1 in-process through JNA (about 70 us per change);"
                        + " PROCESS: one nft process per transaction (milliseconds each); AUTO: LIBRARY when"
                        + " libnftables.so.1 loads, else PROCESS. timeout.ms applies to PROCESS only.")
        String engine() default "AUTO";

        /** @return the service ranking */
        @AttributeDefinition(name = "Service ranking",
                description = "Consumers bind the highest-ranked backend unless they name one with backend.target;"
                        + " below the iptables backend's 100 by default.")
        int service_ranking() default 50;
    }

    private final SystemProcessRunner runner = new SystemProcessRunner();
    private final NftablesFirewall firewall;
    /** The last accepted settings; SCR calls activate, modified and deactivate one at a time. */
    private volatile NftSettings current;

    /**
     * @param config the configuration
     * @throws IllegalArgumentException if the configuration is invalid or {@code engine=LIBRARY} cannot load
     */
    @Activate
    public NftablesBackend(Config config) {
        NftSettings settings = settings(config);
        NftEngine engine;
        try {
            engine = NftEngines.open(settings.engine(), runner);
        } catch (FirewallException e) {
            throw new IllegalArgumentException("engine=LIBRARY but " + e.getMessage(), e);
        }
        // the watchdog lists on the engine's own listing context (libnftables) or process, while batches go on
        this.firewall = new NftablesFirewall(engine, settings, InstantSource.system());
        this.current = settings;
        firewall.start();
        LOG.info("nftables backend started: engine {} ({}), table ip {}, timeout {} ms, watchdog every {} ms",
                settings.engine(), engine.name(), settings.table(), settings.timeout().toMillis(),
                settings.watchInterval().toMillis());
    }

    /** @param config the changed configuration; invalid values are logged and the previous ones kept */
    @Modified
    void modified(Config config) {
        NftSettings settings;
        try {
            settings = settings(config);
        } catch (IllegalArgumentException e) {
            LOG.error("nftables backend: invalid configuration ignored, keeping the previous one: {}", e.getMessage());
            return;
        }
        if (settings.engine() != current.engine()) {
            try {
                firewall.useEngine(NftEngines.open(settings.engine(), runner));
            } catch (FirewallException e) {
                LOG.error("nftables backend: engine={} ignored, keeping engine {}: {}", settings.engine(),
                        current.engine(), e.getMessage());
                settings = new NftSettings(settings.table(), settings.timeout(), settings.watchInterval(),
                        current.engine());
            }
        }
        firewall.update(settings);
        current = settings;
        LOG.info("nftables backend reconfigured: engine {} ({}), table ip {}, timeout {} ms, watchdog every {} ms",
                settings.engine(), firewall.engineName(), settings.table(), settings.timeout().toMillis(),
                settings.watchInterval().toMillis());
    }

    @Deactivate
    void deactivate() {
        firewall.close();
        LOG.info("nftables backend stopped");
    }

    static NftSettings settings(Config config) {
        return NftSettings.of(config.table(), config.timeout_ms(), config.watch_interval_ms(), config.engine());
    }

    @Override
    public String name() {
        return firewall.name();
    }

    @Override
    public void reconcile(String owner, FirewallState desired) throws FirewallException {
        firewall.reconcile(owner, desired);
    }

    @Override
    public void apply(String owner, FirewallChange change) throws FirewallException {
        firewall.apply(owner, change);
    }

    @Override
    public FirewallState installed(String owner) throws FirewallException {
        return firewall.installed(owner);
    }

    @Override
    public void release(String owner) throws FirewallException {
        firewall.release(owner);
    }

    @Override
    public BackendHealth health() {
        return firewall.health();
    }
}
