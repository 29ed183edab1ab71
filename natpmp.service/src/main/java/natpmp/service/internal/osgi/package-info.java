// SPDX-License-Identifier: Apache-2.0
/**
 * The DS component {@link natpmp.service.internal.osgi.NatPmpListener}, its validated settings and the
 * runtime that owns the event loop and the group commit.
 */
package natpmp.service.internal.osgi;
