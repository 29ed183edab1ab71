// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

/** HTML escaping for text and attribute values (both quote styles), the only way values reach the page. */
public final class Html {
    private Html() {
    }

    /**
     * @param value any text, e.g. an interface name or a kernel error message; null gives ""
     * @return the text with {@code & < > " '} replaced by character references
     */
    public static String escape(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
