// SPDX-License-Identifier: Apache-2.0
/**
 * The first step of {@code ./natpmpd}: reads the seed daemon's command line (SPEC S1) plus our own options,
 * turns them into ConfigAdmin configuration in the FileInstall folder, makes sure the Web Console has
 * credentials, and writes the {@code java} command line that the script then {@code exec}s.
 */
package natpmp.app.launch;
