// SPDX-License-Identifier: Apache-2.0
/** Edges of the subnet mapper that touch the file system. */
package natpmp.netmap.internal.net;
