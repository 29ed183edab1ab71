// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Tiny fakes of the servlet request and response (dynamic proxies answering only what the plugins and
 * {@code HttpServlet.service} ask); an unexpected call fails the test.
 */
final class FakeHttp {
    private FakeHttp() {
    }

    /** A request under construction. */
    static final class Request {
        final String method;
        final String uri;
        final Map<String, String> headers = new HashMap<>();
        final Map<String, Object> attributes = new HashMap<>();
        String body = "";

        Request(String method, String uri) {
            this.method = method;
            this.uri = uri;
            headers.put("host", "127.0.0.1:8080");
        }

        Request header(String name, String value) {
            headers.put(name.toLowerCase(Locale.ROOT), value);
            return this;
        }

        Request json(String token, String json) {
            header("Content-Type", "application/json");
            if (token != null) {
                header("X-Natpmp-Csrf", token);
            }
            body = json;
            return this;
        }

        HttpServletRequest build() {
            ByteArrayInputStream in = new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
            ServletInputStream stream = new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read() {
                    return in.read();
                }
            };
            return (HttpServletRequest) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                    new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "getMethod" -> method;
                        case "getRequestURI" -> uri;
                        case "getProtocol" -> "HTTP/1.1";
                        case "getHeader" -> headers.get(((String) args[0]).toLowerCase(Locale.ROOT));
                        case "getContentType" -> headers.get("content-type");
                        case "getInputStream" -> stream;
                        case "getAttribute" -> attributes.get((String) args[0]);
                        case "getRemoteAddr" -> "127.0.0.1";
                        case "getRemoteUser" -> "admin";
                        case "getDateHeader" -> -1L;
                        case "toString" -> method + " " + uri;
                        default -> throw new AssertionError("unexpected request call " + m);
                    });
        }
    }

    /** What the servlet wrote. */
    static final class Response {
        int status = 200;
        String contentType;
        final Map<String, String> headers = new HashMap<>();
        final StringWriter body = new StringWriter();
        private final PrintWriter writer = new PrintWriter(body);

        HttpServletResponse build() {
            return (HttpServletResponse) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "setStatus" -> {
                            status = (Integer) args[0];
                            yield null;
                        }
                        case "setContentType" -> {
                            contentType = (String) args[0];
                            yield null;
                        }
                        case "setCharacterEncoding", "setLocale" -> null;
                        case "setHeader" -> {
                            headers.put((String) args[0], (String) args[1]);
                            yield null;
                        }
                        case "isCommitted" -> false;
                        case "getWriter" -> writer;
                        case "toString" -> "response";
                        default -> throw new AssertionError("unexpected response call " + m);
                    });
        }

        String text() {
            writer.flush();
            return body.toString();
        }
    }
}
