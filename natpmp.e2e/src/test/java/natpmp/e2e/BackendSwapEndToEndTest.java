// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Swapping the firewall backend under load (issue 4): 1,000 live mappings, a client in the LAN namespace issuing
 * about 200 requests per second (renewals and new mappings) that records every reply, and three swaps:
 * iptables → nftables → iptables by editing {@code backend.target} in {@code natpmp.service.cfg}, then iptables →
 * nftables by hot undeploy (deleting {@code natpmp.iptables.jar} from the load folder with no target set, so the
 * service falls back to the other seeded backend). The scenario runs once ({@link #runScenario()}); the tests
 * check its outcome: every mapping kept and passing traffic, no stray rule of the backend swapped away from, no
 * client request answered with an error or needing a retransmission. The time of each swap is printed, not
 * asserted ({@link BackendSwapBenchmark} measures it with 10,000 mappings).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
class BackendSwapEndToEndTest {

    private static final int MAPPINGS = 1000;
    private static final int RATE = 200;
    private static final Pattern RETRANSMIT_TIME = Pattern.compile("^RETRANSMIT (\\S+) ");

    @RegisterExtension
    final Diagnostics diagnostics = new Diagnostics();

    private BackendSwapScenario scenario;
    private BackendSwapScenario.ClientReport report;
    private int kernelForwards;
    private List<String> failingSample;

    @BeforeAll
    void runScenario() {
        scenario = new BackendSwapScenario(getClass().getSimpleName(), diagnostics);
        scenario.startDaemon();
        System.err.println("[e2e] " + scenario.fill(MAPPINGS, RATE));
        scenario.awaitInstalled(BackendKind.IPTABLES, MAPPINGS);

        scenario.swapByTarget(BackendKind.IPTABLES, BackendKind.NFTABLES);
        scenario.awaitInstalled(BackendKind.NFTABLES, MAPPINGS);
        scenario.swapByTarget(BackendKind.NFTABLES, BackendKind.IPTABLES);
        scenario.awaitInstalled(BackendKind.IPTABLES, MAPPINGS);
        scenario.swapByHotUndeploy();

        report = scenario.stopClient();
        System.err.println("[e2e] load client " + report.summary());
        kernelForwards = BackendKind.NFTABLES.installedForwards(scenario.lab);
        failingSample = scenario.failingSample(report.mappings(), 20);
        scenario.swaps().forEach(s -> System.err.println("[e2e] time to swap " + s));
    }

    @AfterAll
    void tearDown() {
        if (scenario != null) {
            scenario.close();
        }
    }

    @Test
    @Order(1)
    @DisplayName("N14: three backend swaps under load keep every mapping (renewals keep their port); no request gets an error")
    void n14_everyMappingSurvivesThreeSwapsUnderLoadWithoutErrors() {
        assertThat(report.errors()).as("client errors (result codes, moved renewals): %s\n%s", report.summary(),
                report.problems().stream().filter(p -> p.startsWith("ERROR")).limit(30).toList()).isZero();
        assertThat(report.mappings()).as("live mappings").hasSizeGreaterThanOrEqualTo(MAPPINGS);
        assertThat(scenario.swaps()).extracting(BackendSwapScenario.Swap::mappings)
                .allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(MAPPINGS));
        // nftables holds the mappings at the end: every live one, no other
        assertThat(kernelForwards).as("elements of map ip natpmp dnat_natpmp").isEqualTo(report.mappings().size());
        assertThat(failingSample).as("sampled mappings (WAN -> LAN) that pass no traffic after the swaps").isEmpty();
    }

    @Test
    @Order(2)
    @DisplayName("backend swap: the backend swapped away from leaves no chain, jump or table behind")
    void backendSwappedAwayFromLeavesNoRule() {
        assertThat(scenario.swaps()).hasSize(3).allSatisfy(s -> assertThat(s.strays())
                .as("left behind by %s after %s", s.from().id(), s).isEmpty());
        assertThat(BackendKind.IPTABLES.strayRules(scenario.lab)).as("iptables after the hot undeploy").isEmpty();
    }

    @Test
    @Order(3)
    @DisplayName("N33: no request needs a retransmission (250 ms) while the backend is swapped")
    void n33_noRequestNeedsARetransmissionDuringSwaps() {
        List<String> retransmits = report.problems().stream().filter(p -> p.startsWith("RETRANSMIT")).toList();
        long duringSwaps = retransmits.stream().filter(this::duringASwap).count();
        assertThat(report.retransmits())
                .as("retransmissions: %d of %d while a swap ran; swaps %s; first ones:\n%s", duringSwaps,
                        retransmits.size(), scenario.swaps(), String.join("\n", retransmits.stream().limit(30).toList()))
                .isZero();
    }

    /** @return whether the retransmission was sent while a swap ran (or within 300 ms after it ended) */
    private boolean duringASwap(String retransmitLine) {
        Matcher m = RETRANSMIT_TIME.matcher(retransmitLine);
        if (!m.find()) {
            return false;
        }
        Instant at = Instant.parse(m.group(1));
        ZoneId zone = ZoneId.systemDefault();
        return scenario.swaps().stream().anyMatch(s -> !at.isBefore(s.started().atZone(zone).toInstant())
                && !at.isAfter(s.holds().atZone(zone).toInstant().plusMillis(300)));
    }
}
