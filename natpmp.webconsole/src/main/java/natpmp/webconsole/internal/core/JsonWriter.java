// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

/**
 * A minimal streaming JSON writer (RFC 8259). Strings are escaped so that the output can never close an HTML
 * {@code <script>} element or start a comment: {@code <}, {@code >}, {@code &} and U+2028/U+2029 are written as
 * six-character hexadecimal escapes (backslash, u, four digits), which every JSON parser reads back unchanged.
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder(256);
    private boolean needComma;

    /** @return this, after opening an object */
    public JsonWriter beginObject() {
        separator();
        out.append('{');
        needComma = false;
        return this;
    }

    /** @return this, after closing the current object */
    public JsonWriter endObject() {
        out.append('}');
        needComma = true;
        return this;
    }

    /** @return this, after opening an array */
    public JsonWriter beginArray() {
        separator();
        out.append('[');
        needComma = false;
        return this;
    }

    /** @return this, after closing the current array */
    public JsonWriter endArray() {
        out.append(']');
        needComma = true;
        return this;
    }

    /**
     * @param name a member name; the value must follow
     * @return this
     */
    public JsonWriter name(String name) {
        separator();
        quote(name);
        out.append(':');
        needComma = false;
        return this;
    }

    /**
     * @param value a string, or null for JSON null
     * @return this
     */
    public JsonWriter value(String value) {
        separator();
        if (value == null) {
            out.append("null");
        } else {
            quote(value);
        }
        needComma = true;
        return this;
    }

    /**
     * @param value a number
     * @return this
     */
    public JsonWriter value(long value) {
        separator();
        out.append(value);
        needComma = true;
        return this;
    }

    /**
     * @param value a boolean
     * @return this
     */
    public JsonWriter value(boolean value) {
        separator();
        out.append(value);
        needComma = true;
        return this;
    }

    /** Shorthand for {@code name(name).value(value)}. */
    public JsonWriter field(String name, String value) {
        return name(name).value(value);
    }

    /** Shorthand for {@code name(name).value(value)}. */
    public JsonWriter field(String name, long value) {
        return name(name).value(value);
    }

    /** Shorthand for {@code name(name).value(value)}. */
    public JsonWriter field(String name, boolean value) {
        return name(name).value(value);
    }

    private void separator() {
        if (needComma) {
            out.append(',');
            needComma = false;
        }
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
