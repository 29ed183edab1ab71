// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class OptionsTest {
    @Test
    void s1_seedDaemonCommandLineIsAccepted() throws Exception {
        Options o = Options.parse(List.of("-v", "-i", "eth0", "-a", "192.168.1.1", "-a", "10.0.0.1", "-t", "7200",
                "-l", "2000", "-u", "60000"));
        assertThat(o.externalInterface()).contains("eth0");
        assertThat(o.lan()).containsExactly("192.168.1.1", "10.0.0.1");
        assertThat(o.maxLifetime()).hasValue(7200);
        assertThat(o.portLow()).hasValue(2000);
        assertThat(o.portHigh()).hasValue(60000);
        assertThat(o.verbosity()).isEqualTo(1);
        assertThat(o.configuresService()).isTrue();
    }

    @Test
    void ownOptionsHaveDefaultsAndOverrides() throws Exception {
        Options d = Options.parse(List.of());
        assertThat(d.state()).isEqualTo(Path.of("var"));
        assertThat(d.load()).isEqualTo(Path.of("load"));
        assertThat(d.httpHost()).isEqualTo("127.0.0.1");
        assertThat(d.httpPort()).isEqualTo(8080);
        assertThat(d.configuresService()).isFalse();
        Options o = Options.parse(List.of("--state", "/srv/s", "--load", "/srv/l", "--http", "192.168.1.1:9090"));
        assertThat(o.state()).isEqualTo(Path.of("/srv/s"));
        assertThat(o.httpHost()).isEqualTo("192.168.1.1");
        assertThat(o.httpPort()).isEqualTo(9090);
        assertThat(Options.parse(List.of("--http", "8081")).httpPort()).isEqualTo(8081);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "-x                                   | -x: unknown option",
        "-l abc                               | -l: not a port number (1..65535): 'abc'",
        "-l 0                                 | -l: not a port number",
        "-u 65536                             | -u: not a port number",
        "-t -5                                | -t: not a lifetime",
        "-i eth0 -a 300.1.1.1                 | -a: not an IPv4 address: '300.1.1.1'",
        "-i eth0 -a 0.0.0.0                   | -a: 0.0.0.0 would listen on the external side",
        "-i                                   | -i: missing value",
        "-i --state /tmp/x -a 10.0.0.1        | -i: missing value (got option --state)",
        "-i eth0 -a 10.0.0.1 -l 5000 -u 4000  | -l: low port 5000 is above high port 4000",
        "-a 10.0.0.1                          | -i: the public interface is required",
        "-i eth0                              | -a: at least one private address",
        "--http 1.2.3.4:0                     | --http: not a port number",
        "-b                                   | -b: not supported",
        "extra                                | extra: unexpected argument",
    })
    void usageErrorsNameTheOption(String args, String message) {
        assertThatThrownBy(() -> Options.parse(List.of(args.trim().split("\\s+"))))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith(message);
    }
}
