// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.netmap.internal.core.NetmapRule;

/** A configured DNETMAP rule, published inside this bundle by {@link NetmapRuleComponent}. */
public interface RuleSource {
    /** @return the validated rule */
    NetmapRule rule();
}
