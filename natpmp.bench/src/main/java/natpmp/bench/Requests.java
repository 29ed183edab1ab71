// SPDX-License-Identifier: Apache-2.0
package natpmp.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What one client sends, one request at a time, and how it recognises and judges the answer. One instance per
 * client thread; not shared.
 */
sealed interface Requests {

    /**
     * Writes the next request into {@code out} (flipped for sending).
     *
     * @return false when this client has nothing more to send
     */
    boolean next(ByteBuffer out);

    /** @return whether {@code reply} answers the request last written by {@link #next} (a late answer to an
     *          earlier one does not) */
    boolean matches(Wire.Reply reply);

    /** @return whether the answer is a success; may remember what it granted */
    boolean succeeded(Wire.Reply reply);

    /**
     * A mapping as granted by the daemon.
     *
     * @param internalPort the client's port
     * @param externalPort the port the daemon mapped
     */
    record Granted(int internalPort, int externalPort) {
    }

    /** Opcode 0, over and over (RFC 6886 §3.2); also the traffic sent to the echo server. */
    final class Announce implements Requests {
        @Override
        public boolean next(ByteBuffer out) {
            Wire.announceRequest(out);
            return true;
        }

        @Override
        public boolean matches(Wire.Reply reply) {
            return reply.opcode() == Wire.REPLY_BIT;
        }

        @Override
        public boolean succeeded(Wire.Reply reply) {
            return reply.result() == 0;
        }
    }

    /** New mappings, one per internal port, suggesting the same external port (RFC 6886 §3.3). */
    final class Create implements Requests {
        private final int opcode;
        private final int[] ports;
        private final long lifetime;
        private final List<Granted> granted = new ArrayList<>();
        private int next;
        private int current = -1;

        /**
         * @param opcode   1 (UDP) or 2 (TCP)
         * @param ports    internal ports, each mapped once, in order
         * @param lifetime requested lifetime in seconds, at least 1
         */
        Create(int opcode, int[] ports, long lifetime) {
            this.opcode = opcode;
            this.ports = ports.clone();
            this.lifetime = lifetime;
        }

        @Override
        public boolean next(ByteBuffer out) {
            if (next == ports.length) {
                return false;
            }
            current = ports[next++];
            Wire.mapRequest(out, opcode, current, current, lifetime);
            return true;
        }

        @Override
        public boolean matches(Wire.Reply reply) {
            return reply.opcode() == Wire.REPLY_BIT + opcode && (reply.internalPort() == current
                    || reply.internalPort() == -1);
        }

        @Override
        public boolean succeeded(Wire.Reply reply) {
            if (reply.result() != 0 || reply.lifetime() <= 0) {
                return false;
            }
            granted.add(new Granted(reply.internalPort(), reply.externalPort()));
            return true;
        }

        /** @return the mappings granted so far */
        List<Granted> granted() {
            return List.copyOf(granted);
        }
    }

    /**
     * Requests existing mappings again, round and round (a renewal, RFC 6886 §3.3: "the client SHOULD ... renew");
     * a success must keep the external port.
     */
    final class Renew implements Requests {
        private final int opcode;
        private final List<Granted> mappings;
        private final long lifetime;
        private int next;
        private Granted current;

        /**
         * @param opcode   1 (UDP) or 2 (TCP), as the mappings were made
         * @param mappings at least one
         * @param lifetime requested lifetime in seconds, at least 1
         */
        Renew(int opcode, List<Granted> mappings, long lifetime) {
            if (mappings.isEmpty()) {
                throw new IllegalArgumentException("nothing to renew");
            }
            this.opcode = opcode;
            this.mappings = List.copyOf(mappings);
            this.lifetime = lifetime;
        }

        @Override
        public boolean next(ByteBuffer out) {
            current = mappings.get(next);
            next = (next + 1) % mappings.size();
            Wire.mapRequest(out, opcode, current.internalPort(), current.externalPort(), lifetime);
            return true;
        }

        @Override
        public boolean matches(Wire.Reply reply) {
            return reply.opcode() == Wire.REPLY_BIT + opcode && (reply.internalPort() == current.internalPort()
                    || reply.internalPort() == -1);
        }

        @Override
        public boolean succeeded(Wire.Reply reply) {
            return reply.result() == 0 && reply.externalPort() == current.externalPort();
        }
    }

    /** Deletes mappings, each once: lifetime 0 and external port 0 (RFC 6886 §3.4). */
    final class Delete implements Requests {
        private final int opcode;
        private final List<Granted> mappings;
        private int next;
        private int current = -1;

        /**
         * @param opcode   1 (UDP) or 2 (TCP), as the mappings were made
         * @param mappings the mappings to delete
         */
        Delete(int opcode, List<Granted> mappings) {
            this.opcode = opcode;
            this.mappings = List.copyOf(mappings);
        }

        @Override
        public boolean next(ByteBuffer out) {
            if (next == mappings.size()) {
                return false;
            }
            current = mappings.get(next++).internalPort();
            Wire.mapRequest(out, opcode, current, 0, 0);
            return true;
        }

        @Override
        public boolean matches(Wire.Reply reply) {
            return reply.opcode() == Wire.REPLY_BIT + opcode && (reply.internalPort() == current
                    || reply.internalPort() == -1);
        }

        @Override
        public boolean succeeded(Wire.Reply reply) {
            return reply.result() == 0;
        }
    }
}
