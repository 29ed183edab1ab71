// SPDX-License-Identifier: Apache-2.0
/**
 * Running external commands the safe way for firewall backends: argv lists (never a shell), the script on
 * standard input, standard error kept, a hard timeout. {@link natpmp.exec.ScriptedProcessRunner} is the
 * strict fake for tests.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package natpmp.exec;
