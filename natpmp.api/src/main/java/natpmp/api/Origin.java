// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

/** Who created a mapping. */
public enum Origin {
    /** A NAT-PMP request from the LAN host itself. */
    NATPMP,
    /** An administrator (configuration or console): NAT-PMP clients may not delete it (RFC 6886 §3.4). */
    STATIC
}
