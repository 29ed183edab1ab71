// SPDX-License-Identifier: Apache-2.0
/**
 * Declarative Services components of the subnet mapper: the rules (factory configurations), the manager that
 * owns the engine on its loop thread and talks to the firewall backend, and the Gogo commands.
 */
package natpmp.netmap.internal.osgi;
