// SPDX-License-Identifier: Apache-2.0
/**
 * Pure subnet-mapper core with the semantics of the DNETMAP netfilter target (SPEC section C): pools, the global
 * prenat index, LRU reuse, lazy expiry, the {@code /proc} texts, the kernel log texts and the binding file
 * format. No sockets, threads, clock reads or logging; time (monotonic milliseconds) is passed in. Not thread
 * safe: one owner thread.
 */
package natpmp.netmap.internal.core;
