// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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

    @Test
    @DisplayName("N24: compaction replaces the snapshot and starts an empty journal; appends land in it")
    void n24_compactionStartsNewJournal() throws Exception {
        try (LeaseStore store = new LeaseStore(dir.resolve("leases.txt"))) {
            assertThatThrownBy(() -> store.append("drop udp 10.0.0.2 5000\n")).isInstanceOf(IOException.class);
            store.compact("snapshot one\n", "journal 1\n");
            store.append("a\n");
            store.append("b\n");
            assertThat(store.unsynced()).isTrue();
            store.sync();
            assertThat(store.unsynced()).isFalse();
            assertThat(store.readJournal()).contains("journal 1\na\nb\n");
            store.compact("snapshot two\n", "journal 2\n");
            assertThat(store.read()).contains("snapshot two\n");
            assertThat(store.readJournal()).contains("journal 2\n");
            store.append("c\n");
        }
        LeaseStore reopened = new LeaseStore(dir.resolve("leases.txt"));
        assertThat(reopened.readJournal()).contains("journal 2\nc\n");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("leases.txt",
                    "leases.txt.journal");
        }
    }
}
