// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

/** Coarse health of a firewall backend. */
public enum Health {
    /** The last kernel operation succeeded and the installed state matches the desired one. */
    OK,
    /** The backend works but had to repair state changed from outside, or is being set up. */
    DEGRADED,
    /** The last kernel operation failed; requests needing the kernel get result 3. */
    FAILED
}
