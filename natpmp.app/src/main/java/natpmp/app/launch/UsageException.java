// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

/** A command-line error: printed as one line {@code natpmpd: <message>}, exit status 2. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
