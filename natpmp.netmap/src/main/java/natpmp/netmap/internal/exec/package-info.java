// SPDX-License-Identifier: Apache-2.0
/** Edges of the subnet mapper that run processes (argv lists, never a shell). */
package natpmp.netmap.internal.exec;
