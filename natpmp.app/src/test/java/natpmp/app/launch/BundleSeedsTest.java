// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleSeedsTest {
    @TempDir
    Path dir;
    Path shipped;
    Path load;
    Path state;

    @BeforeEach
    void folders() throws Exception {
        shipped = Files.createDirectories(dir.resolve("backends"));
        load = Files.createDirectories(dir.resolve("load"));
        state = Files.createDirectories(dir.resolve("var"));
        Files.writeString(shipped.resolve("natpmp.iptables.jar"), "ipt v1");
        Files.writeString(shipped.resolve("natpmp.nftables.jar"), "nft v1");
    }

    @Test
    void firstStartCopiesEveryShippedBundle() throws Exception {
        assertThat(BundleSeeds.seed(shipped, load, state)).hasSize(2);
        assertThat(Files.readString(load.resolve("natpmp.iptables.jar"))).isEqualTo("ipt v1");
        assertThat(BundleSeeds.seed(shipped, load, state)).as("nothing to do the second time").isEmpty();
    }

    @Test
    void aBundleTheOperatorRemovedStaysRemoved() throws Exception {
        BundleSeeds.seed(shipped, load, state);
        Files.delete(load.resolve("natpmp.iptables.jar"));
        Files.writeString(shipped.resolve("natpmp.iptables.jar"), "ipt v2");
        assertThat(BundleSeeds.seed(shipped, load, state)).isEmpty();
        assertThat(load.resolve("natpmp.iptables.jar")).doesNotExist();
    }

    @Test
    void anUntouchedSeedIsUpdatedButAnOperatorsOwnFileIsKept() throws Exception {
        BundleSeeds.seed(shipped, load, state);
        Files.writeString(load.resolve("natpmp.nftables.jar"), "vendor build");
        Files.writeString(shipped.resolve("natpmp.iptables.jar"), "ipt v2");
        Files.writeString(shipped.resolve("natpmp.nftables.jar"), "nft v2");
        assertThat(BundleSeeds.seed(shipped, load, state)).containsExactly("updated " + load.resolve("natpmp.iptables.jar"));
        assertThat(Files.readString(load.resolve("natpmp.iptables.jar"))).isEqualTo("ipt v2");
        assertThat(Files.readString(load.resolve("natpmp.nftables.jar"))).isEqualTo("vendor build");
    }

    @Test
    void noShippedFolderMeansNothingToDo() throws Exception {
        assertThat(BundleSeeds.seed(dir.resolve("none"), load, state)).isEmpty();
    }
}
