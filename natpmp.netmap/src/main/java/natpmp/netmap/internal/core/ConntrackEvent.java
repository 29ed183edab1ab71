// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

/**
 * A new connection as reported by the kernel's conntrack events (after NAT was set up): the original tuple
 * carries the addresses before translation (a private source for outgoing flows, a public pool address as
 * destination for incoming ones), the reply tuple those after it.
 *
 * @param protocol  IP protocol number
 * @param origSrc   original source
 * @param origDst   original destination
 * @param replySrc  reply source
 * @param replyDst  reply destination
 */
public record ConntrackEvent(int protocol, int origSrc, int origDst, int replySrc, int replyDst) {
}
