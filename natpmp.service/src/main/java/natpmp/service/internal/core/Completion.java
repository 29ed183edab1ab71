// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.util.Arrays;

/**
 * The end of a pending ticket: the reply to send (empty for internal tickets such as expiry) and the
 * result it carries.
 *
 * @param ticket the ticket
 * @param result the result code (for internal tickets: success or network failure)
 * @param reply  the response datagram, empty for tickets no client waits for
 */
public record Completion(long ticket, ResultCode result, byte[] reply) {
    /** Copies the reply. */
    public Completion {
        reply = reply.clone();
    }

    /** @return a copy of the reply */
    @Override
    public byte[] reply() {
        return reply.clone();
    }

    /** @return whether a datagram must be sent */
    public boolean hasReply() {
        return reply.length > 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Completion c && c.ticket == ticket && c.result == result && Arrays.equals(c.reply, reply);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(ticket) * 31 + Arrays.hashCode(reply);
    }

    @Override
    public String toString() {
        return "Completion[ticket=" + ticket + ", result=" + result + ", " + reply.length + " bytes]";
    }
}
