// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Optional;

/**
 * Decides whether a state-changing request may come from a page of this console, not from another site that
 * rides on the operator's cached Basic credentials (browsers resend them to any form or fetch aimed at the
 * console). Every condition below must hold; each one alone already defeats a cross-site form post:
 * <ol>
 * <li>the method is POST (GETs never change anything);</li>
 * <li>{@value #HEADER} carries the plugin's secret token, which only appears inside the authenticated page: a
 * foreign site can neither read it (same-origin policy) nor send a custom header cross-site without a CORS
 * preflight, which the console never grants;</li>
 * <li>the body is {@code application/json}, which an HTML form cannot produce (again forcing a preflight);</li>
 * <li>{@code Sec-Fetch-Site}, when the browser sends it, says {@code same-origin};</li>
 * <li>{@code Origin} (or, without it, {@code Referer}), when present, names the same host and port as
 * {@code Host}.</li>
 * </ol>
 * Scripts (curl) send the token header and JSON and usually no Origin; they fetch the token from the page or
 * the JSON document first.
 */
public final class CsrfPolicy {
    /** The request header that must carry the token. */
    public static final String HEADER = "X-Natpmp-Csrf";

    private CsrfPolicy() {
    }

    /**
     * What the policy looks at in a request; absent headers are null.
     *
     * @param method       the HTTP method
     * @param contentType  the Content-Type header
     * @param token        the {@value #HEADER} header
     * @param origin       the Origin header
     * @param referer      the Referer header
     * @param host         the Host header
     * @param secFetchSite the Sec-Fetch-Site header
     */
    public record Facts(String method, String contentType, String token, String origin, String referer, String host,
            String secFetchSite) {
    }

    /**
     * @param expectedToken the plugin's token
     * @param facts         the request
     * @return why the request is refused, or empty when it may proceed
     */
    public static Optional<String> refusal(String expectedToken, Facts facts) {
        if (!"POST".equals(facts.method())) {
            return Optional.of("only POST changes state");
        }
        String type = facts.contentType() == null ? "" : facts.contentType().split(";", 2)[0].strip()
                .toLowerCase(Locale.ROOT);
        if (!type.equals("application/json")) {
            return Optional.of("Content-Type must be application/json");
        }
        if (facts.token() == null || expectedToken == null || expectedToken.isEmpty()
                || !MessageDigest.isEqual(facts.token().getBytes(StandardCharsets.UTF_8),
                        expectedToken.getBytes(StandardCharsets.UTF_8))) {
            return Optional.of("missing or wrong " + HEADER + " header (reload the page)");
        }
        if (facts.secFetchSite() != null && !facts.secFetchSite().equalsIgnoreCase("same-origin")) {
            return Optional.of("cross-site request (Sec-Fetch-Site: " + facts.secFetchSite() + ")");
        }
        String source = facts.origin() != null ? facts.origin() : facts.referer();
        if (source != null) {
            if (facts.host() == null || facts.host().isBlank()) {
                return Optional.of("no Host header");
            }
            Optional<String> authority = authority(source);
            if (authority.isEmpty() || !authority.get().equalsIgnoreCase(facts.host().strip())) {
                return Optional.of("request from another origin (" + source + ")");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> authority(String url) {
        if (url.equals("null")) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(url);
            if (uri.getHost() == null) {
                return Optional.empty();
            }
            String host = uri.getHost();
            return Optional.of(uri.getPort() < 0 ? host : host + ":" + uri.getPort());
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }
}
