// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.netmap.internal.core.NetmapRule;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * One DNETMAP rule per factory configuration of PID {@value #FACTORY_PID}. The rule is validated on activation
 * (an invalid one does not activate, with the reason in the log); the {@link NetmapManager} picks up every
 * rule service and checks the rules against each other (overlapping pools, D12). A changed configuration is
 * applied in place ({@link #modified}): the service properties change and the manager replaces the rule without
 * ever seeing it gone, so the rule's pool keeps its bindings (D2). An invalid change is logged and the previous
 * rule stays.
 */
@Component(service = RuleSource.class, configurationPid = NetmapRuleComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = NetmapRuleComponent.Config.class, factory = true)
public final class NetmapRuleComponent implements RuleSource {
    /** The factory PID. */
    public static final String FACTORY_PID = "natpmp.netmap.rule";

    /**
     * One DNETMAP rule. {@code whole__prefix} is the key {@code whole_prefix}; {@code static$} is the key
     * {@code static}.
     */
    @ObjectClassDefinition(name = "Subnet mapper rule (DNETMAP)", description = "Maps a private subnet 1:1 onto a"
            + " pool of public addresses, with the semantics of the xtables-addons DNETMAP target.")
    public @interface Config {
        /** @return label in the web console */
        String webconsole_configurationFactory_nameHint() default "{hook} {subnet} -> {prefix} (rank {rank})";

        /** @return order among rules, lower first */
        @AttributeDefinition(name = "Rank", description = "Position of the rule in the chain: lower ranks are"
                + " tried first; a full pool falls through to the next rule.")
        int rank() default 100;

        /** @return the source match */
        @AttributeDefinition(name = "Private subnet", description = "Source addresses the snat side applies to,"
                + " a.b.c.d/len; empty = any source.")
        String subnet() default "";

        /** @return the pool */
        @AttributeDefinition(name = "Public pool (--prefix)", description = "a.b.c.d/len, /16 to /32; required"
                + " for snat; for dnat it limits the rule to this pool.")
        String prefix() default "";

        /** @return snat, dnat or both */
        @AttributeDefinition(name = "Hook", description = "snat (POSTROUTING), dnat (PREROUTING) or both.")
        String hook() default "snat";

        /** @return ttl in seconds, empty for the global default */
        @AttributeDefinition(name = "TTL (--ttl, s)", description = "Seconds a hit keeps the binding; negative ="
                + " leave the ttl alone; empty = default_ttl of natpmp.netmap.", required = false)
        String ttl() default "";

        /** @return --reuse */
        @AttributeDefinition(name = "Reuse (--reuse)", description = "Keep a host's binding from any pool even"
                + " when it has expired.")
        boolean reuse() default false;

        /** @return whole_prefix */
        @AttributeDefinition(name = "Whole prefix", description = "Hand out the network and broadcast addresses"
                + " of the pool too (module parameter whole_prefix).")
        boolean whole__prefix() default true;

        /** @return --static */
        @AttributeDefinition(name = "Static only (--static)", description = "Never allocate; only use existing"
                + " (e.g. static) bindings.")
        boolean static$() default false;
    }

    private static final Logger LOG = LoggerFactory.getLogger(NetmapRuleComponent.class);

    private volatile NetmapRule rule;

    /**
     * @param config     the configuration
     * @param properties the component properties (for the PID)
     * @throws IllegalArgumentException with a precise message when the rule is invalid
     */
    @Activate
    public NetmapRuleComponent(Config config, Map<String, Object> properties) {
        Object pid = properties.getOrDefault("service.pid", FACTORY_PID);
        this.rule = RuleSettings.parse(String.valueOf(pid), config);
    }

    /**
     * Applies a changed configuration in place; an invalid one is logged and the previous rule stays.
     *
     * @param config     the configuration
     * @param properties the component properties
     */
    @Modified
    void modified(Config config, Map<String, Object> properties) {
        Object pid = properties.getOrDefault("service.pid", FACTORY_PID);
        try {
            rule = RuleSettings.parse(String.valueOf(pid), config);
        } catch (IllegalArgumentException e) {
            LOG.warn("netmap: configuration {} rejected, keeping the previous rule: {}", pid, e.getMessage());
        }
    }

    @Override
    public NetmapRule rule() {
        return rule;
    }
}
