// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

/**
 * NAT-PMP result codes (RFC 6886 §3.5, N22). Clients treat unknown codes as fatal, so this set is closed:
 * every refusal cause inside the service maps onto exactly one of these.
 */
public enum ResultCode {
    /** 0: Success. */
    SUCCESS(0),
    /** 1: Unsupported Version (N1). */
    UNSUPPORTED_VERSION(1),
    /** 2: Not Authorized/Refused: policy denies it, or a static mapping cannot be deleted (N19, N34). */
    NOT_AUTHORIZED(2),
    /** 3: Network Failure: no external address, no firewall backend, or the kernel batch failed (N7). */
    NETWORK_FAILURE(3),
    /** 4: Out of resources: no free port, a quota, the global limit or the rate limit was hit (N12). */
    OUT_OF_RESOURCES(4),
    /** 5: Unsupported opcode (N4). */
    UNSUPPORTED_OPCODE(5);

    private final int code;

    ResultCode(int code) {
        this.code = code;
    }

    /** @return the value sent on the wire */
    public int code() {
        return code;
    }

    /**
     * @param code a wire value
     * @return the result code with that value
     * @throws IllegalArgumentException if the value is not one of 0..5
     */
    public static ResultCode of(int code) {
        for (ResultCode r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown NAT-PMP result code " + code);
    }
}
