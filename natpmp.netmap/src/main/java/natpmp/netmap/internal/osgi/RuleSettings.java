// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.netmap.internal.core.Cidr;
import natpmp.netmap.internal.core.Hook;
import natpmp.netmap.internal.core.NetmapRule;

import java.util.Optional;
import java.util.OptionalInt;

/** Turns one {@code natpmp.netmap.rule} configuration into a validated {@link NetmapRule}. */
final class RuleSettings {
    private RuleSettings() {
    }

    /**
     * @param name the rule's name for messages
     * @param c    the configuration
     * @return the rule
     * @throws IllegalArgumentException with a precise message naming the rule and the key
     */
    static NetmapRule parse(String name, NetmapRuleComponent.Config c) {
        return parse(name, c.rank(), c.subnet(), c.prefix(), c.hook(), c.ttl(), c.reuse(), c.whole__prefix(),
                c.static$());
    }

    static NetmapRule parse(String name, int rank, String subnet, String prefix, String hook, String ttl,
            boolean reuse, boolean wholePrefix, boolean staticOnly) {
        Optional<Cidr> sub = blank(subnet) ? Optional.empty()
                : Optional.of(key(name, "subnet", () -> Cidr.parse(subnet)));
        Optional<Cidr> pre = blank(prefix) ? Optional.empty()
                : Optional.of(key(name, "prefix", () -> Cidr.parsePrefix(prefix)));
        Hook h = key(name, "hook", () -> Hook.parse(hook));
        OptionalInt t = blank(ttl) ? OptionalInt.empty() : OptionalInt.of(key(name, "ttl", () -> {
            try {
                // v2 stores the ttl in s32 (D1)
                return Integer.parseInt(ttl.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be whole seconds in " + Integer.MIN_VALUE + ".."
                        + Integer.MAX_VALUE + " (negative: leave the ttl alone), was '" + ttl + "'", e);
            }
        }));
        return new NetmapRule(name, rank, sub, pre, h, t, reuse, wholePrefix, staticOnly);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static <T> T key(String rule, String key, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rule " + rule + ": " + key + ": " + e.getMessage(), e);
        }
    }
}
