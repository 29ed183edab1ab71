// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.netmap.internal.core.NetmapSettings;
import natpmp.netmap.internal.exec.ConntrackMonitor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The validated global configuration {@code natpmp.netmap}.
 *
 * @param engine            settings of the engine
 * @param log               the per-binding log lines (false = the module's {@code disable_log=1})
 * @param externalInterface the WAN interface the backend limits the rules to
 * @param conntrack         whether conntrack NEW events refresh bindings (D6)
 * @param conntrackCommand  the argv of the conntrack event monitor
 * @param conntrackBind     whether conntrack NEW events also bind hosts without a binding (their first
 *                          connection is then not translated)
 * @param queue             the NFQUEUE number holding first packets of unbound hosts, empty = no queue
 */
record ManagerSettings(NetmapSettings engine, boolean log, String externalInterface, boolean conntrack,
        List<String> conntrackCommand, boolean conntrackBind, OptionalInt queue) {
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.@:+-]{1,15}");

    ManagerSettings {
        conntrackCommand = List.copyOf(conntrackCommand);
        if (queue.isPresent() && (queue.getAsInt() < 0 || queue.getAsInt() > 65535)) {
            throw new IllegalArgumentException("queue.number must be in 0..65535, was " + queue.getAsInt());
        }
        if (conntrackCommand.isEmpty() || conntrackCommand.get(0).isBlank()) {
            throw new IllegalArgumentException("conntrack.command must name a program");
        }
    }

    static ManagerSettings parse(NetmapManager.Config c) {
        List<String> argv = new ArrayList<>();
        for (String part : c.conntrack_command()) {
            argv.addAll(Arrays.asList(part.trim().split("\\s+")));
        }
        argv.removeIf(String::isEmpty);
        return of(c.default__ttl(), c.log(), c.dnat__expired(), c.lasthit__kernel(), c.external_interface(),
                c.conntrack_enabled(), argv.isEmpty() ? ConntrackMonitor.DEFAULT_COMMAND : argv, c.conntrack_bind(),
                c.queue_enabled() ? OptionalInt.of(c.queue_number()) : OptionalInt.empty());
    }

    static ManagerSettings of(long defaultTtl, boolean log, boolean dnatExpired, boolean kernelLasthit,
            String externalInterface) {
        return of(defaultTtl, log, dnatExpired, kernelLasthit, externalInterface, false,
                ConntrackMonitor.DEFAULT_COMMAND, false, OptionalInt.empty());
    }

    static ManagerSettings of(long defaultTtl, boolean log, boolean dnatExpired, boolean kernelLasthit,
            String externalInterface, boolean conntrack, List<String> conntrackCommand, boolean conntrackBind,
            OptionalInt queue) {
        String ext = externalInterface == null ? "" : externalInterface.trim();
        if (!INTERFACE.matcher(ext).matches()) {
            throw new IllegalArgumentException("external.interface must be an interface name of 1 to 15 characters,"
                    + " was '" + ext + "'");
        }
        if (defaultTtl < 0 || defaultTtl > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("default_ttl must be in 0.." + Integer.MAX_VALUE + " seconds, was "
                    + defaultTtl);
        }
        return new ManagerSettings(new NetmapSettings(defaultTtl, dnatExpired, kernelLasthit), log, ext, conntrack,
                conntrackCommand, conntrackBind, queue);
    }
}
