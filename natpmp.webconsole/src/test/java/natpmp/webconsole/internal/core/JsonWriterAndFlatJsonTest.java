// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonWriterAndFlatJsonTest {

    @Test
    @DisplayName("JSON writer: commas, nesting, null and numbers")
    void writesNestedDocuments() {
        String json = new JsonWriter().beginObject().field("a", 1).field("b", true).field("c", (String) null)
                .name("d").beginArray().beginObject().field("e", "x").endObject().value(2).endArray()
                .name("f").beginObject().endObject().endObject().toString();
        assertThat(json).isEqualTo("{\"a\":1,\"b\":true,\"c\":null,\"d\":[{\"e\":\"x\"},2],\"f\":{}}");
    }

    @Test
    @DisplayName("JSON writer: quotes, backslashes, control characters and HTML-significant characters are escaped")
    void escapesEverythingThatCouldBreakOut() {
        String json = new JsonWriter().beginObject().field("k", "a\"b\\c\nd\u0001</script><!--&\u2028").endObject()
                .toString();
        assertThat(json).isEqualTo("{\"k\":\"a\\\"b\\\\c\\nd\\u0001\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\"}");
        assertThat(json).doesNotContain("<", ">", "&");
    }

    @Test
    @DisplayName("flat JSON bodies: strings with escapes, integers, booleans, null")
    void parsesFlatObjects() {
        Map<String, Object> m = FlatJson.parseObject(
                " { \"client\" : \"192.168.50.10\", \"port\": 4101, \"neg\": -1, \"t\": true, \"f\": false, \"n\": null,"
                        + " \"esc\": \"a\\u0041\\n\\\"\" } ");
        assertThat(m).containsEntry("client", "192.168.50.10").containsEntry("port", 4101L).containsEntry("neg", -1L)
                .containsEntry("t", true).containsEntry("f", false).containsEntry("esc", "aA\n\"");
        assertThat(m).containsKey("n");
        assertThat(m.get("n")).isNull();
        assertThat(FlatJson.parseObject("{}")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":{\"b\":1}}", "{\"a\":[1]}",
            "{\"a\":1} x", "{\"a\":1.5}", "{\"a\":\"x\",\"a\":\"y\"}", "{a:1}", "{\"a\":\"\\q\"}",
            "{\"a\":99999999999999999999}", "{\"a\":\"\\u12\"}"})
    @DisplayName("flat JSON bodies: anything else is refused with a message")
    void refusesEverythingElse(String body) {
        assertThatThrownBy(() -> FlatJson.parseObject(body)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid JSON body at offset ");
    }

    @Test
    @DisplayName("HTML escaping covers text and both attribute quote styles")
    void htmlEscaping() {
        assertThat(Html.escape("<a href=\"x\" onclick='y'>&</a>"))
                .isEqualTo("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
        assertThat(Html.escape(null)).isEmpty();
    }
}
