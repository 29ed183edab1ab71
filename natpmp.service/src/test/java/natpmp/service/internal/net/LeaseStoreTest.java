// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

class LeaseStoreTest {
    @TempDir
    Path dir;

    @Test
    void writesAtomicallyAndLeavesNoTemporaryFile() throws Exception {
        LeaseStore store = new LeaseStore(dir.resolve("leases.txt"));
        assertThat(store.read()).isEmpty();
        store.write("one\n");
        store.write("two\n");
        assertThat(store.read()).contains("two\n");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("leases.txt");
        }
    }
}
