// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("variant detection")
class ToolsTest {
    private static final Predicate<String> ALL = Set.of("iptables-nft-restore", "iptables-nft-save",
            "iptables-legacy-restore", "iptables-legacy-save", "iptables-restore", "iptables-save")::contains;

    @Test
    void autoFollowsWhatIptablesSays() {
        assertThat(Tools.choose(Variant.AUTO, Optional.of("iptables v1.8.9 (nf_tables)\n"), ALL)).isEqualTo(Tools.NFT);
        assertThat(Tools.choose(Variant.AUTO, Optional.of("iptables v1.8.9 (legacy)\n"), ALL)).isEqualTo(Tools.LEGACY);
    }

    @Test
    void autoFallsBackToThePlainToolsWhenTheFlavourIsUnknownOrItsToolsAreMissing() {
        assertThat(Tools.choose(Variant.AUTO, Optional.of("iptables v1.6.1\n"), ALL)).isEqualTo(Tools.PLAIN);
        assertThat(Tools.choose(Variant.AUTO, Optional.empty(), ALL)).isEqualTo(Tools.PLAIN);
        assertThat(Tools.choose(Variant.AUTO, Optional.of("iptables v1.8.9 (nf_tables)"),
                Set.of("iptables-nft-restore")::contains)).isEqualTo(Tools.PLAIN);
    }

    @Test
    void explicitVariantsAlwaysUseTheirOwnTools() {
        assertThat(Tools.choose(Variant.NFT, Optional.of("iptables v1.8.9 (legacy)"), s -> false)).isEqualTo(Tools.NFT);
        assertThat(Tools.choose(Variant.LEGACY, Optional.empty(), s -> false)).isEqualTo(Tools.LEGACY);
        assertThat(Tools.LEGACY.restore()).isEqualTo("iptables-legacy-restore");
        assertThat(Tools.NFT.save()).isEqualTo("iptables-nft-save");
    }

    @org.junit.jupiter.api.Test
    void theListingCommandMatchesTheFlavour() {
        org.assertj.core.api.Assertions.assertThat(Tools.NFT.command()).isEqualTo("iptables-nft");
        org.assertj.core.api.Assertions.assertThat(Tools.LEGACY.command()).isEqualTo("iptables-legacy");
        org.assertj.core.api.Assertions.assertThat(Tools.PLAIN.command()).isEqualTo("iptables");
    }
}
