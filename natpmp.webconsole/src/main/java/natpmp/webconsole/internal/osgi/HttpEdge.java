// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import natpmp.webconsole.internal.core.ConsoleLinks;
import natpmp.webconsole.internal.core.CsrfPolicy;
import natpmp.webconsole.internal.core.JsonWriter;

/** HTTP plumbing shared by the plugin servlets. Stateless. */
final class HttpEdge {
    /** Request attribute the Web Console sets to its root path (ServletConstants.ATTR_APP_ROOT). */
    static final String ATTR_APP_ROOT = "felix.webconsole.appRoot";
    /** Where the console lives when the attribute is missing (tests, direct registration). */
    static final String DEFAULT_APP_ROOT = "/system/console";
    /** Request bodies are a few dozen bytes; anything near this is not ours. */
    static final int MAX_BODY = 4096;

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    private HttpEdge() {
    }

    /** @return 32 random bytes, base64url: the per-activation token of one plugin */
    static String newToken() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static ConsoleLinks links(HttpServletRequest req) {
        Object root = req.getAttribute(ATTR_APP_ROOT);
        return new ConsoleLinks(root instanceof String s ? s : DEFAULT_APP_ROOT);
    }

    /** @return whether the JSON document is wanted: {@code <label>.json} (the console then adds no frame) */
    static boolean wantsJson(HttpServletRequest req) {
        String uri = req.getRequestURI();
        return uri != null && uri.endsWith(".json");
    }

    /** @return the last path segment: the action of a POST such as {@code .../natpmp-mappings/delete} */
    static String action(HttpServletRequest req) {
        String uri = req.getRequestURI() == null ? "" : req.getRequestURI();
        return uri.substring(uri.lastIndexOf('/') + 1);
    }

    static Optional<String> refusal(HttpServletRequest req, String token) {
        return CsrfPolicy.refusal(token, new CsrfPolicy.Facts(req.getMethod(), req.getContentType(),
                req.getHeader(CsrfPolicy.HEADER), req.getHeader("Origin"), req.getHeader("Referer"),
                req.getHeader("Host"), req.getHeader("Sec-Fetch-Site")));
    }

    static String body(HttpServletRequest req) throws IOException {
        try (InputStream in = req.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY) {
                    throw new IllegalArgumentException("request body larger than " + MAX_BODY + " bytes");
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    static void sendJson(HttpServletResponse resp, int status, String json) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.getWriter().write(json);
    }

    static void sendError(HttpServletResponse resp, int status, String message) throws IOException {
        sendJson(resp, status, new JsonWriter().beginObject().field("error", message).endObject().toString());
    }

    static void sendHtml(HttpServletResponse resp, String html) throws IOException {
        // inside the console frame the content type is already set and the header written; standalone it matters
        if (!resp.isCommitted()) {
            resp.setContentType("text/html");
            resp.setCharacterEncoding("UTF-8");
        }
        resp.getWriter().write(html);
    }

    /**
     * @param value a dotted-quad literal (never a name: no DNS lookup happens)
     * @return the address
     * @throws IllegalArgumentException when it is not one
     */
    static Inet4Address ipv4(Object value) {
        return ipv4(value, "client");
    }

    /**
     * @param value a dotted-quad literal (never a name: no DNS lookup happens)
     * @param what  the member name, for the message
     * @return the address
     * @throws IllegalArgumentException when it is not one
     */
    static Inet4Address ipv4(Object value, String what) {
        if (!(value instanceof String s) || !IPV4.matcher(s).matches()) {
            throw new IllegalArgumentException(what + " must be an IPv4 address such as 192.168.1.10");
        }
        try {
            return (Inet4Address) InetAddress.getByName(s);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException(what + " must be an IPv4 address such as 192.168.1.10");
        }
    }
}
