// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files under {@code src/test/resources/natpmp/iptables/internal/core}. Compared exactly. Run with
 * {@code -Dgolden.update=true} to rewrite them after a deliberate change, then review the diff.
 */
public final class Golden {
    private Golden() {
    }

    /**
     * @param name   the file name
     * @param actual the rendered text
     */
    public static void assertMatches(String name, String actual) {
        if (Boolean.getBoolean("golden.update")) {
            try {
                Path file = Path.of("src/test/resources/natpmp/iptables/internal/core", name);
                Files.createDirectories(file.getParent());
                Files.writeString(file, actual, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        assertThat(actual).as("golden file %s", name).isEqualTo(read(name));
    }

    /**
     * @param name a resource next to this class
     * @return its text
     */
    public static String read(String name) {
        try (InputStream in = Golden.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionError("missing golden file " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
