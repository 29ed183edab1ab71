// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import natpmp.api.FirewallBackend;
import natpmp.api.MappingService;
import natpmp.api.BackendHealth;
import natpmp.api.MappingSnapshot;
import natpmp.api.Protocol;

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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The NAT-PMP listener (RFC 6886, server side) as a DS component, PID {@value #PID}. It needs a configuration
 * because RFC 6886 forbids listening on the external side: there is no safe default for {@code lan}.
 *
 * <h2>Configuration keys, hot or cold</h2>
 * Every key is applied in place by {@link #modified}; none reactivates the component. An invalid update is
 * logged with the reason and the previous settings stay.
 * <table>
 * <caption>Keys</caption>
 * <tr><th>key</th><th>default</th><th>hot/cold</th><th>in place means</th></tr>
 * <tr><td>lan</td><td>(required)</td><td>hot</td><td>sockets of removed addresses close, new ones open;
 * the backend gets the new topology</td></tr>
 * <tr><td>external.interface</td><td>(required)</td><td>hot</td><td>address re-read at once; reconcile; announce</td></tr>
 * <tr><td>port.low, port.high</td><td>1024, 65535</td><td>hot</td><td>new requests; existing mappings keep their ports</td></tr>
 * <tr><td>port.reserved</td><td>none</td><td>hot</td><td>new requests</td></tr>
 * <tr><td>lifetime.min, lifetime.max</td><td>1, 86400</td><td>hot</td><td>new requests and renewals</td></tr>
 * <tr><td>quota.per.client, limit.global</td><td>256, 65536</td><td>hot</td><td>new mappings; nothing is evicted</td></tr>
 * <tr><td>rate.per.client, rate.burst</td><td>100, 200</td><td>hot</td><td>buckets keep their tokens</td></tr>
 * <tr><td>rules</td><td>none (allow all)</td><td>hot</td><td>new mappings; existing ones stay until they expire</td></tr>
 * <tr><td>static.mappings</td><td>none</td><td>hot</td><td>installed/removed in the next batch; a NAT-PMP mapping in
 * the way is removed</td></tr>
 * <tr><td>announce</td><td>true</td><td>hot</td><td>burst starts / stops</td></tr>
 * <tr><td>enabled</td><td>true</td><td>hot</td><td>false: port 5351 closed, NAT-PMP mappings removed, no
 * announcements; true again: new epoch, sockets open, announcements</td></tr>
 * <tr><td>backend.target</td><td>(natpmp.backend=*)</td><td>hot (SCR rebinds)</td><td>the new backend gets everything,
 * then the old one is released</td></tr>
 * </table>
 */
@Component(service = MappingService.class, configurationPid = NatPmpListener.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = NatPmpListener.Config.class)
public final class NatPmpListener implements MappingService {
    /** The configuration PID. */
    public static final String PID = "natpmp.service";
    /** Name of the lease file in the bundle's data area. */
    public static final String LEASE_FILE = "natpmp-leases.txt";

    private static final Logger LOG = LoggerFactory.getLogger(NatPmpListener.class);

    /** The configuration (Metatype). Underscores become dots: {@code port_low} is {@code port.low}. */
    @ObjectClassDefinition(name = "NAT-PMP listener", description = "NAT-PMP (RFC 6886) gateway service."
            + " Listens on the LAN addresses only, never on the external interface.")
    public @interface Config {
        /** @return LAN addresses (a.b.c.d or a.b.c.d/len) or interface names; commas or spaces separate several */
        @AttributeDefinition(name = "LAN addresses or interfaces", description = "Where to listen on UDP 5351, e.g."
                + " br-lan or 192.168.50.1/24. Several entries may share one value, separated by commas or spaces.")
        String[] lan() default {};

        /** @return the external (WAN) interface */
        @AttributeDefinition(name = "External interface", description = "The WAN interface whose first IPv4 address"
                + " is reported to clients; followed live.")
        String external_interface() default "";

        /** @return lowest external port handed out */
        @AttributeDefinition(name = "Lowest external port", min = "1", max = "65535")
        int port_low() default 1024;

        /** @return highest external port handed out */
        @AttributeDefinition(name = "Highest external port", min = "1", max = "65535")
        int port_high() default 65535;

        /** @return ports never handed out, N or N-M */
        @AttributeDefinition(name = "Reserved ports", description = "Ports never handed out: N or N-M, commas allowed.")
        String[] port_reserved() default {};

        /** @return shortest lifetime */
        @AttributeDefinition(name = "Minimum lifetime (s)", min = "1")
        long lifetime_min() default 1;

        /** @return longest lifetime granted */
        @AttributeDefinition(name = "Maximum lifetime (s)", min = "1")
        long lifetime_max() default 86400;

        /** @return mappings one client may hold */
        @AttributeDefinition(name = "Mappings per client", min = "1")
        int quota_per_client() default 256;

        /** @return mappings in total */
        @AttributeDefinition(name = "Mappings in total", min = "1")
        int limit_global() default 65536;

        /** @return mapping requests per second per client */
        @AttributeDefinition(name = "Requests per second per client", description = "Token refill rate; over the"
                + " limit mapping requests get result 4.")
        double rate_per_client() default 100;

        /** @return request burst per client */
        @AttributeDefinition(name = "Request burst per client")
        double rate_burst() default 200;

        /** @return permission rules, first match wins, default allow */
        @AttributeDefinition(name = "Permission rules", description = "allow|deny <ext-ports> <client-ip/prefix>"
                + " <int-ports>; first match wins; no match allows. ';' separates several in one value.")
        String[] rules() default {};

        /** @return static mappings */
        @AttributeDefinition(name = "Static mappings", description = "tcp|udp <external-port> <client-ip>"
                + " <internal-port>; NAT-PMP clients cannot delete them. ';' separates several in one value.")
        String[] static_mappings() default {};

        /** @return whether to announce the external address */
        @AttributeDefinition(name = "Announce", description = "Multicast the external address to 224.0.0.1:5350"
                + " on start and on changes.")
        boolean announce() default true;

        /** @return whether NAT-PMP is served */
        @AttributeDefinition(name = "Enabled", description = "Off: port 5351 closed, NAT-PMP mappings removed.")
        boolean enabled() default true;

        /** @return filter selecting the firewall backend */
        @AttributeDefinition(name = "Firewall backend filter", description = "e.g. (natpmp.backend=nftables)")
        String backend_target() default "(natpmp.backend=*)";
    }

    private final ListenerRuntime runtime;

    /**
     * Validates the configuration and starts listening.
     *
     * @param context the bundle context (for the data area)
     * @param config  the configuration
     * @throws IllegalArgumentException with a precise message when the configuration is invalid
     */
    @Activate
    public NatPmpListener(BundleContext context, Config config) {
        this(ListenerSettings.parse(config), Optional.ofNullable(context.getDataFile(LEASE_FILE)).map(File::toPath),
                ListenerRuntime.Params.production());
    }

    NatPmpListener(ListenerSettings settings, Optional<java.nio.file.Path> leaseFile, ListenerRuntime.Params params) {
        this.runtime = new ListenerRuntime(settings, leaseFile, params);
    }

    /**
     * Applies a changed configuration in place; an invalid one is logged and the previous settings stay.
     *
     * @param config the configuration
     */
    @Modified
    void modified(Config config) {
        try {
            runtime.reconfigure(ListenerSettings.parse(config));
        } catch (IllegalArgumentException e) {
            LOG.warn("NAT-PMP: configuration {} rejected, keeping the previous settings: {}", PID, e.getMessage());
        }
    }

    /** Stops listening, saves the leases and releases our firewall rules. */
    @Deactivate
    void deactivate() {
        runtime.close();
    }

    /**
     * @param backend the backend; only queues work on the event loop
     */
    @Reference(name = "backend", service = FirewallBackend.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            updated = "updatedBackend", unbind = "unbindBackend")
    void bindBackend(FirewallBackend backend) {
        runtime.backendBound(backend);
    }

    void updatedBackend(FirewallBackend backend) {
        runtime.backendUpdated(backend);
    }

    void unbindBackend(FirewallBackend backend) {
        runtime.backendUnbound(backend);
    }

    /**
     * Every installed backend, whichever is in use: only read for their health (SPEC: each backend's health is
     * visible through the API).
     */
    @Reference(name = "backends", service = FirewallBackend.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<FirewallBackend> backends = List.of();

    @Override
    public MappingSnapshot snapshot() {
        MappingSnapshot s = runtime.snapshot();
        List<FirewallBackend> all = backends; // DS §112.3.8.1: copy the volatile field before use
        List<BackendHealth> healths = new ArrayList<>();
        Optional<BackendHealth> inUse = s.health();
        for (FirewallBackend b : all) {
            BackendHealth h = b.health();
            healths.add(h);
            if (s.backend().filter(h.backend()::equals).isPresent()) {
                inUse = Optional.of(h); // fresher than the copy taken after the last batch
            }
        }
        healths.sort(Comparator.comparing(BackendHealth::backend));
        return new MappingSnapshot(s.taken(), s.enabled(), s.epochSeconds(), s.externalAddress(), s.mappings(),
                s.backend(), inUse, s.lastSwap(), healths.isEmpty() ? s.backends() : healths);
    }

    @Override
    public CompletionStage<Integer> delete(Inet4Address client, Protocol protocol, int internalPort) {
        return runtime.delete(client, protocol, internalPort);
    }

    @Override
    public CompletionStage<Integer> deleteAll(Inet4Address client) {
        return runtime.deleteAll(client);
    }

    ListenerRuntime runtime() {
        return runtime;
    }
}
