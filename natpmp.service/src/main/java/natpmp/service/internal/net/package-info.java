// SPDX-License-Identifier: Apache-2.0
/**
 * Host access for the listener: LAN sockets and their receive threads, interface lookups, the gateway's
 * own ports from /proc and the atomic lease file.
 */
package natpmp.service.internal.net;
