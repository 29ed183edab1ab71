// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

/**
 * What {@link PortAllocator#allocate} decided.
 *
 * @param result {@link ResultCode#SUCCESS}, {@link ResultCode#NOT_AUTHORIZED} or {@link ResultCode#OUT_OF_RESOURCES}
 * @param port   the port on success, 0 otherwise
 */
public record Allocation(ResultCode result, int port) {
    /**
     * @param port the granted port
     * @return a success
     */
    public static Allocation granted(int port) {
        return new Allocation(ResultCode.SUCCESS, port);
    }

    /**
     * @param result why not
     * @return a refusal
     */
    public static Allocation refused(ResultCode result) {
        return new Allocation(result, 0);
    }

    /** @return whether a port was granted */
    public boolean isGranted() {
        return result == ResultCode.SUCCESS;
    }
}
