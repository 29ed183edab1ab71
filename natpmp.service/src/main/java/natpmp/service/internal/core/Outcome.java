// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.FirewallChange;

import java.util.Arrays;

/**
 * What the listener does with one request ({@link NatPmpEngine#handle}).
 */
public sealed interface Outcome permits Outcome.Drop, Outcome.Reply, Outcome.Pending, Outcome.Joined {

    /** Send nothing (N3, N26). */
    record Drop() implements Outcome {
    }

    /**
     * Answer at once: nothing needs to change in the kernel.
     *
     * @param bytes the response datagram
     */
    record Reply(byte[] bytes) implements Outcome {
        /** Copies the bytes. */
        public Reply {
            bytes = bytes.clone();
        }

        /** @return a copy of the response */
        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Reply r && Arrays.equals(r.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Reply[" + bytes.length + " bytes]";
        }
    }

    /**
     * The table already holds the change (so later requests see the port taken); the answer waits until
     * {@code change} is in the kernel. The listener puts {@code change} into the next firewall batch and then
     * calls {@link NatPmpEngine#committed} or {@link NatPmpEngine#failed} with {@code ticket}.
     *
     * @param ticket identifies this request and its change
     * @param change what the kernel must do
     */
    record Pending(long ticket, FirewallChange change) implements Outcome {
    }

    /**
     * A retransmission (or renewal) of a request whose change is still pending: no new change; the answer
     * comes with the completions of ticket {@code awaiting}.
     *
     * @param ticket   identifies this request
     * @param awaiting the ticket whose batch answers it
     */
    record Joined(long ticket, long awaiting) implements Outcome {
    }
}
