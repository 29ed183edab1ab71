// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader (RFC 8259) for what {@code nft -j} prints: objects become {@link Map}s in
 * document order, arrays {@link List}s, numbers {@link Long} (or {@link BigDecimal} if not integral),
 * strings, booleans and {@code null} as themselves. No third-party dependency for one regular format.
 *
 * <p>Reads any {@link CharSequence} (libnftables' output is read in place, without a copy into a String), and
 * shares equal short strings and equal numbers within one document: a listing of 10,000 forwards repeats the
 * same keys, protocols and addresses tens of thousands of times, and the daemon runs in a small heap.
 */
public final class Json {
    /** Strings up to this length are shared; longer ones (rules, comments) are rare. */
    private static final int SHARED_LENGTH = 40;

    /**
     * Takes the items of chosen arrays as they are read, so that a document with a huge array need not be held
     * in memory as a whole: the parser keeps only the item being read.
     */
    public interface ItemSink {
        /**
         * @param key          a member name whose value is an array
         * @param objectSoFar  the members of the enclosing object read before it (in document order)
         * @return whether the array's items go to {@link #item} instead of into the result
         */
        boolean streams(String key, Map<String, Object> objectSoFar);

        /**
         * @param objectSoFar the members of the enclosing object read before the array
         * @param item        one item of a streamed array
         */
        void item(Map<String, Object> objectSoFar, Object item);
    }

    private final CharSequence text;
    private final ItemSink sink;
    private final Map<String, String> strings = new HashMap<>();
    private final Map<Long, Long> numbers = new HashMap<>();
    private int pos;

    private Json(CharSequence text, ItemSink sink) {
        this.text = text;
        this.sink = sink;
    }

    /**
     * @param text a JSON document
     * @return its value
     * @throws IllegalArgumentException with the offset if the text is not JSON
     */
    public static Object parse(CharSequence text) {
        return parse(text, null);
    }

    /**
     * Like {@link #parse(CharSequence)}, but the arrays {@code sink} chooses are handed to it item by item and
     * appear in the result as the {@link Long} number of their items. Values are not shared between items then
     * (they are dropped right after the sink has seen them).
     *
     * @param text a JSON document
     * @param sink takes the streamed items; null streams nothing
     * @return its value
     * @throws IllegalArgumentException with the offset if the text is not JSON
     */
    public static Object parse(CharSequence text, ItemSink sink) {
        Json p = new Json(text, sink);
        p.skipSpace();
        Object value = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("trailing characters");
        }
        return value;
    }

    /** Nesting guard: nft output is a few levels deep; anything deeper is not nft's. */
    private static final int MAX_DEPTH = 64;

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested too deeply");
        }
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + c + "'");
        }
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> map = new LinkedHashMap<>();
        pos++;
        skipSpace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') {
                throw error("expected a member name");
            }
            String key = string();
            skipSpace();
            expect(':');
            skipSpace();
            if (sink != null && peek() == '[' && sink.streams(key, map)) {
                map.put(key, streamArray(map, depth + 1));
            } else {
                map.put(key, value(depth + 1));
            }
            skipSpace();
            char c = next();
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        List<Object> list = new ArrayList<>();
        pos++;
        skipSpace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipSpace();
            list.add(value(depth + 1));
            skipSpace();
            char c = next();
            if (c == ']') {
                return Collections.unmodifiableList(list);
            }
            if (c != ',') {
                throw error("expected ',' or ']'");
            }
        }
    }

    private Long streamArray(Map<String, Object> objectSoFar, int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested too deeply");
        }
        long count = 0;
        pos++;
        skipSpace();
        if (peek() == ']') {
            pos++;
            return count;
        }
        Map<String, Object> view = Collections.unmodifiableMap(objectSoFar);
        while (true) {
            skipSpace();
            sink.item(view, value(depth + 1));
            count++;
            skipSpace();
            char c = next();
            if (c == ']') {
                return count;
            }
            if (c != ',') {
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                String value = b.toString();
                return value.length() > SHARED_LENGTH || sink != null ? value : strings.computeIfAbsent(value, v -> v);
            }
            if (c < 0x20) {
                throw error("control character in string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("short unicode escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(text.subSequence(pos, pos + 4).toString(), 16));
                    } catch (NumberFormatException ex) {
                        throw error("bad unicode escape");
                    }
                    pos += 4;
                }
                default -> throw error("bad escape '\\" + e + "'");
            }
        }
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        digits();
        boolean integral = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            integral = false;
            pos++;
            digits();
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                pos++;
            }
            digits();
        }
        String n = text.subSequence(start, pos).toString();
        if (integral) {
            try {
                Long value = Long.parseLong(n);
                return sink != null ? value : numbers.computeIfAbsent(value, v -> v);
            } catch (NumberFormatException e) {
                return new BigDecimal(n);
            }
        }
        return new BigDecimal(n);
    }

    private void digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        if (pos == start) {
            throw error("expected a digit");
        }
    }

    private Object literal(String word, Object value) {
        if (pos + word.length() > text.length() || !word.contentEquals(text.subSequence(pos, pos + word.length()))) {
            throw error("unexpected literal");
        }
        pos += word.length();
        return value;
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(pos);
    }

    private char next() {
        char c = peek();
        pos++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) {
            pos--;
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + what);
    }
}
