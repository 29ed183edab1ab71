// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.osgi;

import java.time.InstantSource;
import natpmp.api.BackendHealth;
import natpmp.api.FirewallBackend;
import natpmp.api.FirewallChange;
import natpmp.api.FirewallException;
import natpmp.api.FirewallState;
import natpmp.exec.SystemProcessRunner;
import natpmp.iptables.internal.core.IptablesSettings;
import natpmp.iptables.internal.core.Variant;
import natpmp.iptables.internal.exec.IptablesFirewall;
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
 * The iptables firewall backend as a DS component: owns nat chains {@code NATPMP-<OWNER>-PRE/-POST}, the
 * filter chain {@code NATPMP-<OWNER>-FWD} and the mangle chain {@code NATPMP-<OWNER>-QUE} (queue rules) per
 * owner, watches them, and removes them when deactivated.
 *
 * <p>All keys are hot ({@link Modified}): {@code timeout.ms} applies to the next command,
 * {@code watch.interval.ms} reschedules the watchdog, {@code variant} moves the rules to the other flavour,
 * {@code service.ranking} is a service property SCR updates itself.
 */
@Component(service = FirewallBackend.class, configurationPid = IptablesBackend.PID, immediate = true)
@Designate(ocd = IptablesBackend.Config.class)
@NatpmpBackend(backend = IptablesFirewall.NAME)
public final class IptablesBackend implements FirewallBackend {
    /** The configuration PID. */
    public static final String PID = "natpmp.iptables";

    private static final Logger LOG = LoggerFactory.getLogger(IptablesBackend.class);

    /** Configuration of the iptables backend. */
    @ObjectClassDefinition(id = PID, name = "NAT-PMP iptables backend",
            description = "Firewall backend on iptables: programs port forwards and 1:1 bindings into chains it owns.")
    public @interface Config {
        /** @return which iptables flavour to drive */
        @AttributeDefinition(name = "Variant",
                description = "AUTO follows what 'iptables -V' says (nf_tables or legacy); NFT and LEGACY force one.")
        Variant variant() default Variant.AUTO;

        /** @return how long one iptables command may run, in milliseconds */
        @AttributeDefinition(name = "Command timeout (ms)",
                description = "How long one iptables-restore or iptables-save may run, 100..600000.")
        long timeout_ms() default 5000;

        /** @return how often the watchdog checks the chains, in milliseconds */
        @AttributeDefinition(name = "Watchdog interval (ms)",
                description = "How often to check that our chains and jumps are intact and restore them; 0 = off.")
        long watch_interval_ms() default 1000;

        /** @return the service ranking */
        @AttributeDefinition(name = "Service ranking",
                description = "Consumers bind the highest-ranked backend unless they name one with backend.target.")
        int service_ranking() default 100;
    }

    private final IptablesFirewall firewall;

    /**
     * @param config the configuration
     * @throws IllegalArgumentException if the configuration is invalid
     */
    @Activate
    public IptablesBackend(Config config) {
        IptablesSettings settings = settings(config);
        this.firewall = new IptablesFirewall(new SystemProcessRunner(), settings, InstantSource.system());
        firewall.start();
        LOG.info("iptables backend started: variant {}, timeout {} ms, watchdog every {} ms", settings.variant(),
                settings.timeout().toMillis(), settings.watchInterval().toMillis());
    }

    /** @param config the changed configuration; invalid values are logged and the previous ones kept */
    @Modified
    void modified(Config config) {
        IptablesSettings settings;
        try {
            settings = settings(config);
        } catch (IllegalArgumentException e) {
            LOG.error("iptables backend: invalid configuration ignored, keeping the previous one: {}", e.getMessage());
            return;
        }
        firewall.update(settings);
        LOG.info("iptables backend reconfigured: variant {}, timeout {} ms, watchdog every {} ms", settings.variant(),
                settings.timeout().toMillis(), settings.watchInterval().toMillis());
    }

    @Deactivate
    void deactivate() {
        firewall.close();
        LOG.info("iptables backend stopped");
    }

    static IptablesSettings settings(Config config) {
        return IptablesSettings.of(config.variant(), config.timeout_ms(), config.watch_interval_ms());
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
