// SPDX-License-Identifier: Apache-2.0
/**
 * natpmp API: the values the NAT-PMP service and the subnet mapper exchange with firewall backends
 * ({@link natpmp.api.FirewallBackend}, the SPI) and with readers such as the web console
 * ({@link natpmp.api.MappingService}).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package natpmp.api;
