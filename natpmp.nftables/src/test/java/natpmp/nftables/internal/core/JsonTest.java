// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hand-written JSON reader. */
class JsonTest {
    @Test
    void readsEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"b\": {\"c\": \"x\\\"y\\u00e9\\n\"},"
                + " \"e\": [], \"f\": {}} ");
        assertThat(v).isEqualTo(Map.of("a", Arrays.asList(1L, -2L, new BigDecimal("3.5"), new BigDecimal("1e3"), true,
                false, null), "b", Map.of("c", "x\"yé\n"), "e", List.of(), "f", Map.of()));
    }

    @Test
    void keepsMemberOrder() {
        assertThat(List.copyOf(((Map<?, ?>) Json.parse("{\"z\": 1, \"a\": 2, \"m\": 3}")).keySet()))
                .isEqualTo(List.of("z", "a", "m"));
    }

    @Test
    void rejectsBrokenInputWithItsOffset() {
        assertThatThrownBy(() -> Json.parse("{\"a\": 1,}")).hasMessageContaining("offset 8");
        assertThatThrownBy(() -> Json.parse("[1 2]")).hasMessageContaining("expected ',' or ']'");
        assertThatThrownBy(() -> Json.parse("\"open")).hasMessageContaining("unexpected end");
        assertThatThrownBy(() -> Json.parse("{} x")).hasMessageContaining("trailing");
        assertThatThrownBy(() -> Json.parse("[" .repeat(100) + "]".repeat(100)))
                .hasMessageContaining("nested too deeply");
        assertThatThrownBy(() -> Json.parse("tru")).hasMessageContaining("literal");
        assertThatThrownBy(() -> Json.parse("-")).hasMessageContaining("digit");
    }

    @Test
    void streamsChosenArraysItemByItemWithTheMembersReadBefore() {
        List<String> seen = new java.util.ArrayList<>();
        Json.ItemSink sink = new Json.ItemSink() {
            @Override
            public boolean streams(String key, Map<String, Object> objectSoFar) {
                return key.equals("elem") && "s".equals(objectSoFar.get("name"));
            }

            @Override
            public void item(Map<String, Object> objectSoFar, Object item) {
                seen.add(objectSoFar.get("name") + "=" + item);
            }
        };
        Object v = Json.parse("[{\"name\": \"s\", \"elem\": [1, [2, 3], {\"k\": 4}]},"
                + " {\"name\": \"t\", \"elem\": [5]}, {\"name\": \"s\", \"elem\": []}]", sink);
        assertThat(seen).containsExactly("s=1", "s=[2, 3]", "s={k=4}");
        assertThat(v).isEqualTo(List.of(Map.of("name", "s", "elem", 3L), Map.of("name", "t", "elem", List.of(5L)),
                Map.of("name", "s", "elem", 0L)));
        assertThatThrownBy(() -> Json.parse("{\"name\": \"s\", \"elem\": [1 2]}", sink))
                .hasMessageContaining("expected ',' or ']'");
    }
}
