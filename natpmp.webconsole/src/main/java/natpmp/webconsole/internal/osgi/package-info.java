// SPDX-License-Identifier: Apache-2.0
/**
 * The Web Console plugin servlets (DS components) and their HTTP edge: they read snapshots through the API
 * services, hand them to the pure renderers and turn POSTs into API calls.
 */
package natpmp.webconsole.internal.osgi;
