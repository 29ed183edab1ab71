// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link NetmapEndToEnd} with the nftables backend: the queue rule in {@code chain queue_netmap} of table
 * {@code ip natpmp} (jumped to from base chain {@code firstpacket}, postrouting priority mangle), bound sources
 * skipped by a lookup in set {@code bindhosts_netmap}. The kernel must have the nft queue expression
 * ({@code CONFIG_NFT_QUEUE}, module {@code nft_queue}); its absence fails the class under CI and skips it
 * elsewhere.
 *
 * <p>Not part of the default run (the name does not match Surefire's {@code *Test}): the kernel of the machines
 * this project's CI runs on is built without the nft queue expression ({@code /proc/config.gz}:
 * {@code # CONFIG_NFT_QUEUE is not set}, while {@code CONFIG_NETFILTER_XT_TARGET_NFQUEUE=y}), so the nftables
 * data path cannot work there and the class could only fail. On a kernel that has it, run
 * <pre>
 * mvn -o -B -pl natpmp.e2e verify -Dnatpmp.e2e.required=true -Dtest=NetmapNftablesEndToEnd
 * </pre>
 * The same suite runs in CI against the iptables backend ({@link NetmapIptablesEndToEndTest}); the nft rules
 * themselves are checked against golden files, and {@code natpmp.nftables}' kernel test proves the backend
 * reports a kernel without the queue expression as a refusal with nft's reason.
 */
class NetmapNftablesEndToEnd extends NetmapEndToEnd {

    @Override
    protected BackendKind backend() {
        return BackendKind.NFTABLES;
    }

    @Override
    protected void requireDataPath() {
        // a scratch table in the lab's gateway: does the kernel take a queue statement?
        String probe = "add table ip natpmp_probe\nadd chain ip natpmp_probe c\nadd rule ip natpmp_probe c queue num 0\n";
        ExecResult r = lab.exec(lab.gw(), probe.getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(20), "nft",
                "-f", "-");
        lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "delete", "table", "ip", "natpmp_probe");
        Requirements.enforce(r.ok() ? List.of() : List.of("kernel support for the nft queue expression"
                + " (CONFIG_NFT_QUEUE, module nft_queue): " + r.stderr().strip()));
    }

    @Test
    @Order(5)
    void queueRuleLayoutInTheKernel() {
        String table = String.join("\n", backend().ourRules(lab));
        assertThat(table).contains("type filter hook postrouting priority mangle").contains("jump queue_netmap")
                .contains("ip saddr 192.168.50.16/28 ip saddr != @bindhosts_netmap queue num 4660")
                .doesNotContain("bypass");
    }
}
