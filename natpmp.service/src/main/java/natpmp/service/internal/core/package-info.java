// SPDX-License-Identifier: Apache-2.0
/**
 * Pure NAT-PMP core: codec, mapping table, port allocator, policy, engine and lease format. No sockets,
 * threads, clock reads or logging; time and randomness are passed in. Not thread safe: one owner thread.
 */
package natpmp.service.internal.core;
