// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import natpmp.api.Protocol;
import natpmp.service.internal.core.GatewayPorts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The ports the gateway itself listens on (N32), read from {@code /proc/net/{tcp,tcp6,udp,udp6}}: TCP sockets
 * in state LISTEN and unconnected UDP sockets, whatever address they are bound to. Read at most once per
 * {@link #CACHE_MILLIS}; files that are missing (not Linux) count as empty. Used on the listener's loop
 * thread only.
 */
public final class ProcNetPorts implements GatewayPorts {
    /** How long one reading is reused. */
    public static final long CACHE_MILLIS = 1000;
    private static final String TCP_LISTEN = "0A";
    private static final String UDP_UNCONNECTED = "07";

    private final Path procNet;
    private final LongSupplier monotonicMillis;
    private BitSet tcp = new BitSet();
    private BitSet udp = new BitSet();
    private long readAt;
    private boolean read;

    /**
     * @param procNet         normally {@code /proc/net}
     * @param monotonicMillis clock for the cache
     */
    public ProcNetPorts(Path procNet, LongSupplier monotonicMillis) {
        this.procNet = procNet;
        this.monotonicMillis = monotonicMillis;
    }

    @Override
    public boolean inUse(Protocol protocol, int port) {
        long now = monotonicMillis.getAsLong();
        if (!read || now - readAt >= CACHE_MILLIS) {
            tcp = ports(List.of("tcp", "tcp6"), TCP_LISTEN);
            udp = ports(List.of("udp", "udp6"), UDP_UNCONNECTED);
            readAt = now;
            read = true;
        }
        return (protocol == Protocol.TCP ? tcp : udp).get(port);
    }

    private BitSet ports(List<String> files, String state) {
        BitSet ports = new BitSet(65536);
        for (String f : files) {
            Path p = procNet.resolve(f);
            if (!Files.isReadable(p)) {
                continue;
            }
            try {
                parse(Files.readAllLines(p, StandardCharsets.US_ASCII), state, ports);
            } catch (IOException e) {
                // unreadable right now: the next reading tries again; nothing to log per request
            }
        }
        return ports;
    }

    /**
     * Adds the local ports of the socket lines in {@code state} to {@code into}.
     *
     * @param lines the file's lines (the first one is a header)
     * @param state the socket state in hex, e.g. {@code 0A}
     * @param into  where to set the ports
     */
    static void parse(List<String> lines, String state, BitSet into) {
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).strip().split("\\s+");
            if (f.length < 4 || !f[3].equalsIgnoreCase(state)) {
                continue;
            }
            int colon = f[1].lastIndexOf(':');
            if (colon < 0) {
                continue;
            }
            try {
                into.set(Integer.parseInt(f[1].substring(colon + 1), 16));
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                // a line we do not understand is skipped
            }
        }
    }
}
