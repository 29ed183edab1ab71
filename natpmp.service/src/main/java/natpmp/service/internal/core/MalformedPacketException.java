// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

/**
 * A datagram is too short to be a NAT-PMP request of its kind (N33). The listener drops such packets
 * without answering and logs them at debug.
 */
public final class MalformedPacketException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is wrong with the packet
     */
    public MalformedPacketException(String message) {
        super(message);
    }
}
