// SPDX-License-Identifier: Apache-2.0
/**
 * Pure console code: JSON and HTML rendering of immutable snapshots, request-body parsing and the
 * cross-site request policy. No servlets, sockets, threads, clock reads or logging.
 */
package natpmp.webconsole.internal.core;
