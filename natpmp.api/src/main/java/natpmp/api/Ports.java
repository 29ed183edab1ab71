// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

/** Port-number checks shared by the records of this package. */
final class Ports {
    static final int MIN = 1;
    static final int MAX = 65535;

    private Ports() {
    }

    static int require(String what, int port) {
        if (port < MIN || port > MAX) {
            throw new IllegalArgumentException(what + " must be in 1..65535, was " + port);
        }
        return port;
    }

    static <T> T nonNull(String what, T value) {
        if (value == null) {
            throw new NullPointerException(what + " must not be null");
        }
        return value;
    }
}
