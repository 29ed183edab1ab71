// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import natpmp.service.internal.core.EngineSettings;
import natpmp.service.internal.core.LifetimePolicy;
import natpmp.service.internal.core.NatPmpCodec;
import natpmp.service.internal.core.PermissionRule;
import natpmp.service.internal.core.Permissions;
import natpmp.service.internal.core.PortRange;
import natpmp.service.internal.core.StaticMapping;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The validated configuration of {@link NatPmpListener}. Built by {@link #parse}, which rejects anything
 * invalid with a message naming the key and the value; nothing is clamped silently.
 *
 * @param lan               LAN entries (addresses, address/prefix or interface names), at least one
 * @param externalInterface the external interface
 * @param engine            protocol settings
 * @param staticMappings    administrative mappings
 * @param announce          whether to multicast announcements (N23)
 * @param enabled           whether NAT-PMP is served at all (N26, N30)
 * @param backendTarget     the filter selecting the firewall backend (used by SCR)
 */
public record ListenerSettings(List<String> lan, String externalInterface, EngineSettings engine,
        List<StaticMapping> staticMappings, boolean announce, boolean enabled, String backendTarget) {

    /** Copies the lists. */
    public ListenerSettings {
        lan = List.copyOf(lan);
        staticMappings = List.copyOf(staticMappings);
    }

    /**
     * @param c the configuration as SCR delivers it
     * @return the validated settings
     * @throws IllegalArgumentException with a precise message for the first invalid key
     */
    public static ListenerSettings parse(NatPmpListener.Config c) {
        List<String> lan = split(c.lan(), "[,\\s]+");
        if (lan.isEmpty()) {
            throw new IllegalArgumentException("lan must name at least one LAN address or interface");
        }
        String ext = c.external_interface() == null ? "" : c.external_interface().strip();
        if (ext.isEmpty()) {
            throw new IllegalArgumentException("external.interface must be set (the WAN interface whose address"
                    + " NAT-PMP reports)");
        }
        if (!ext.matches("[A-Za-z0-9_.:@-]{1,15}")) {
            throw new IllegalArgumentException("external.interface (" + ext + ") is not an interface name");
        }
        for (String l : lan) {
            if (l.equals(ext)) {
                throw new IllegalArgumentException("lan entry '" + l + "' is the external interface;"
                        + " NAT-PMP must never listen on the external side (RFC 6886 §3, N15)");
            }
        }
        int low = port("port.low", c.port_low());
        int high = port("port.high", c.port_high());
        if (low > high) {
            throw new IllegalArgumentException("port.low (" + low + ") must not be above port.high (" + high + ")");
        }
        List<PortRange> reserved = new ArrayList<>();
        for (String r : split(c.port_reserved(), "[,\\s]+")) {
            try {
                reserved.add(PortRange.parse(r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("port.reserved: " + e.getMessage(), e);
            }
        }
        long min = lifetime("lifetime.min", c.lifetime_min());
        long max = lifetime("lifetime.max", c.lifetime_max());
        if (min > max) {
            throw new IllegalArgumentException("lifetime.min (" + min + ") must not be above lifetime.max (" + max + ")");
        }
        if (c.quota_per_client() < 1) {
            throw new IllegalArgumentException("quota.per.client (" + c.quota_per_client() + ") must be at least 1");
        }
        if (c.limit_global() < 1) {
            throw new IllegalArgumentException("limit.global (" + c.limit_global() + ") must be at least 1");
        }
        double rate = c.rate_per_client();
        if (!(rate > 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("rate.per.client (" + rate + ") must be a number above 0");
        }
        double burst = c.rate_burst();
        if (!(burst >= 1) || Double.isInfinite(burst)) {
            throw new IllegalArgumentException("rate.burst (" + burst + ") must be at least 1");
        }
        List<PermissionRule> rules = new ArrayList<>();
        for (String r : split(c.rules(), ";")) {
            try {
                rules.add(PermissionRule.parse(r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rules: " + e.getMessage(), e);
            }
        }
        List<StaticMapping> statics = new ArrayList<>();
        Map<String, StaticMapping> byPort = new HashMap<>();
        Map<String, StaticMapping> byKey = new HashMap<>();
        for (String s : split(c.static_mappings(), "[;,]")) {
            StaticMapping m;
            try {
                m = StaticMapping.parse(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("static.mappings: " + e.getMessage(), e);
            }
            StaticMapping other = byPort.put(m.protocol().keyword() + " " + m.externalPort(), m);
            if (other != null) {
                throw new IllegalArgumentException("static.mappings: '" + other + "' and '" + m + "' both use "
                        + m.protocol().keyword() + " external port " + m.externalPort());
            }
            other = byKey.put(m.key().toString(), m);
            if (other != null) {
                throw new IllegalArgumentException("static.mappings: '" + other + "' and '" + m + "' both forward to "
                        + m.key());
            }
            statics.add(m);
        }
        String target = c.backend_target() == null ? "" : c.backend_target().strip();
        if (!target.startsWith("(") || !target.endsWith(")")) {
            throw new IllegalArgumentException("backend.target (" + target + ") must be an LDAP filter such as"
                    + " (natpmp.backend=iptables)");
        }
        EngineSettings engine = new EngineSettings(new PortRange(low, high), reserved, new LifetimePolicy(min, max),
                c.quota_per_client(), c.limit_global(), rate, burst, new Permissions(rules));
        return new ListenerSettings(lan, ext, engine, statics, c.announce(), c.enabled(), target);
    }

    private static int port(String key, int value) {
        if (value < 1 || value > 65535) {
            throw new IllegalArgumentException(key + " (" + value + ") must be in 1..65535");
        }
        return value;
    }

    private static long lifetime(String key, long value) {
        if (value < 1 || value > NatPmpCodec.U32_MAX) {
            throw new IllegalArgumentException(key + " (" + value + ") must be in 1.." + NatPmpCodec.U32_MAX
                    + " seconds");
        }
        return value;
    }

    /**
     * Splits every element by {@code separator}: FileInstall {@code .cfg} files deliver plain strings, so one
     * element may hold several entries.
     */
    private static List<String> split(String[] values, String separator) {
        List<String> out = new ArrayList<>();
        if (values == null) {
            return out;
        }
        for (String v : values) {
            if (v == null) {
                continue;
            }
            for (String part : v.split(separator)) {
                String p = part.strip();
                if (!p.isEmpty()) {
                    out.add(p);
                }
            }
        }
        return out;
    }
}
