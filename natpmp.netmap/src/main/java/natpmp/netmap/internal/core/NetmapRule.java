// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * One DNETMAP rule, validated.
 *
 * @param name        a name for messages (the configuration PID)
 * @param rank        order among rules, lower first (the rule position in the chain)
 * @param subnet      source match of the SNAT side, empty = any source
 * @param prefix      the pool ({@code --prefix}); required for SNAT (D10); for DNAT it restricts the rule to
 *                    that pool (D9)
 * @param hook        where the rule acts
 * @param ttlSeconds  {@code --ttl}; negative = leave the stamp alone (D6); empty = the global default
 * @param reuse       {@code --reuse} (D5)
 * @param wholePrefix whether the pool holds network and broadcast addresses too (module parameter
 *                    {@code whole_prefix}, D3); rules naming the same pool must agree
 * @param staticOnly  {@code --static}: never allocates, only uses existing bindings (D19)
 */
public record NetmapRule(String name, int rank, Optional<Cidr> subnet, Optional<Cidr> prefix, Hook hook,
        OptionalInt ttlSeconds, boolean reuse, boolean wholePrefix, boolean staticOnly) {
    /** Checks the components and the rules of D3 and D10. */
    public NetmapRule {
        if (name == null || subnet == null || prefix == null || hook == null || ttlSeconds == null) {
            throw new NullPointerException("rule components must not be null");
        }
        if (hook.snat() && prefix.isEmpty()) {
            // D10: the kernel dereferences a NULL prefix as soon as such a rule must allocate
            throw new IllegalArgumentException("rule " + name + ": a snat rule needs a prefix (SPEC D10)");
        }
        if (prefix.isPresent() && prefix.get().bits() < 16) {
            throw new IllegalArgumentException("rule " + name + ": Max netmask size is /16: " + prefix.get());
        }
        if (prefix.isPresent() && !wholePrefix && prefix.get().bits() >= 31) {
            // D3: the kernel would take an entry from an empty list
            throw new IllegalArgumentException("rule " + name + ": pool " + prefix.get()
                    + " has no address without its first and last (whole_prefix=false), SPEC D3");
        }
    }
}
