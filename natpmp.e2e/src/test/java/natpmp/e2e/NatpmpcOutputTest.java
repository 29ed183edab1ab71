// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Harness self-test: the natpmpc output parser on transcripts of libnatpmp 20150609 (Debian 12). */
class NatpmpcOutputTest {

    @Test
    void parsesASuccessfulMapping() {
        NatpmpcOutput out = NatpmpcOutput.parse("""
                initnatpmp() returned 0 (SUCCESS)
                using gateway : 192.168.50.1
                sendpublicaddressrequest returned 2 (SUCCESS)
                readnatpmpresponseorretry returned 0 (OK)
                Public IP address : 203.0.113.1
                epoch = 12
                sendnewportmappingrequest returned 12 (SUCCESS)
                readnatpmpresponseorretry returned 0 (OK)
                Mapped public port 40001 protocol UDP to local port 4001 liftime 3600
                epoch = 12
                closenatpmp() returned 0 (SUCCESS)
                """);
        assertThat(out.publicAddress()).contains("203.0.113.1");
        assertThat(out.mappedPort()).hasValue(40001);
        assertThat(out.protocol()).contains("UDP");
        assertThat(out.privatePort()).hasValue(4001);
        assertThat(out.lifetime()).hasValue(3600);
        assertThat(out.failure()).isEmpty();
        assertThat(out.networkFailure()).isFalse();
    }

    @Test
    void parsesTheNewerSpellingOfLifetime() {
        NatpmpcOutput out = NatpmpcOutput.parse("Mapped public port 0 protocol TCP to local port 80 lifetime 0\n");
        assertThat(out.mappedPort()).hasValue(0);
        assertThat(out.lifetime()).hasValue(0);
    }

    @Test
    void recognisesResult3AsNetworkFailure() {
        NatpmpcOutput out = NatpmpcOutput.parse("""
                Public IP address : 203.0.113.1
                readnatpmpresponseorretry returned -51 (FAILED)
                readnatpmpresponseorretry() failed : network failure
                """);
        assertThat(out.publicAddress()).contains("203.0.113.1");
        assertThat(out.mappedPort()).isEmpty();
        assertThat(out.networkFailure()).isTrue();
    }

    @Test
    void otherFailuresAreNotNetworkFailures() {
        NatpmpcOutput out = NatpmpcOutput.parse(
                "readnatpmpresponseorretry() failed : the gateway does not support nat-pmp\n  errno=111 'x'\n");
        assertThat(out.failure()).contains("the gateway does not support nat-pmp");
        assertThat(out.networkFailure()).isFalse();
        assertThat(out.publicAddress()).isEmpty();
    }
}
