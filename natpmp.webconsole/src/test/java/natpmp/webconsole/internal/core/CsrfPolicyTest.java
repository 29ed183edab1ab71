// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CsrfPolicyTest {
    private static final String TOKEN = "s3cr3t-token";

    private static CsrfPolicy.Facts facts(String method, String type, String token, String origin, String referer,
            String fetchSite) {
        return new CsrfPolicy.Facts(method, type, token, origin, referer, "127.0.0.1:8080", fetchSite);
    }

    @Test
    @DisplayName("a same-origin fetch from the page (token, JSON, Origin = Host, Sec-Fetch-Site same-origin) passes")
    void pagePostPasses() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json; charset=UTF-8", TOKEN,
                "http://127.0.0.1:8080", "http://127.0.0.1:8080/system/console/natpmp-mappings", "same-origin")))
                .isEmpty();
    }

    @Test
    @DisplayName("a script (curl) with token and JSON but no Origin/Referer passes")
    void scriptPostPasses() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", TOKEN, null, null, null))).isEmpty();
    }

    @Test
    @DisplayName("a cross-site HTML form post is refused: wrong content type, no token, foreign origin")
    void formPostRefused() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/x-www-form-urlencoded", null,
                "https://evil.example", null, "cross-site"))).get().asString().contains("Content-Type");
    }

    @Test
    @DisplayName("missing or wrong token is refused")
    void tokenRequired() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", null, null, null, null))).get()
                .asString().contains(CsrfPolicy.HEADER);
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", "s3cr3t-tokeN", null, null, null)))
                .get().asString().contains(CsrfPolicy.HEADER);
        assertThat(CsrfPolicy.refusal("", facts("POST", "application/json", "", null, null, null))).isPresent();
    }

    @Test
    @DisplayName("a foreign Origin, a foreign Referer, Origin null and Sec-Fetch-Site cross-site are refused")
    void foreignOriginsRefused() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", TOKEN, "http://127.0.0.1:8081", null,
                null))).get().asString().contains("another origin");
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", TOKEN, null,
                "http://evil.example/page", null))).get().asString().contains("another origin");
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", TOKEN, "null", null, null)))
                .isPresent();
        assertThat(CsrfPolicy.refusal(TOKEN, facts("POST", "application/json", TOKEN, null, null, "same-site")))
                .get().asString().contains("Sec-Fetch-Site");
    }

    @Test
    @DisplayName("only POST may change state")
    void onlyPost() {
        assertThat(CsrfPolicy.refusal(TOKEN, facts("GET", "application/json", TOKEN, null, null, null))).isPresent();
    }
}
