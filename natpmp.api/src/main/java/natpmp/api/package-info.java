// SPDX-License-Identifier: Apache-2.0
/**
 * natpmp API: the values the NAT-PMP service and the subnet mapper exchange with firewall backends
 * ({@link natpmp.api.FirewallBackend}, the SPI) and with readers such as the web console
 * ({@link natpmp.api.MappingService}).
 *
 * <p>1.1.0: {@link natpmp.api.QueueRule} and {@link natpmp.api.FirewallState#queueRules()}, the subnet mapper's
 * first-packet rule (a compatible addition; the three-argument {@code FirewallState} constructor stays).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package natpmp.api;
