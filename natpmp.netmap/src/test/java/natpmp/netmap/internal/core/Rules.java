// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.Optional;
import java.util.OptionalInt;

/** Test helpers: rules and addresses in one line. */
final class Rules {
    private Rules() {
    }

    static int ip(String dotted) {
        return Ipv4.parse(dotted);
    }

    static String ip(long unsigned) {
        return unsigned == NetmapAllocator.NO_TRANSLATION ? "continue" : Ipv4.format((int) unsigned);
    }

    /** A SNAT rule: subnet to prefix, default ttl, no reuse, whole prefix. */
    static NetmapRule snat(String name, int rank, String subnet, String prefix) {
        return new NetmapRule(name, rank, Optional.of(Cidr.parse(subnet)), Optional.of(Cidr.parsePrefix(prefix)),
                Hook.SNAT, OptionalInt.empty(), false, true, false);
    }

    static NetmapRule snat(String name, int rank, String subnet, String prefix, int ttl, boolean reuse) {
        return new NetmapRule(name, rank, Optional.of(Cidr.parse(subnet)), Optional.of(Cidr.parsePrefix(prefix)),
                Hook.SNAT, OptionalInt.of(ttl), reuse, true, false);
    }

    static NetmapRule dnat(String name, int rank, Optional<String> prefix, OptionalInt ttl) {
        return new NetmapRule(name, rank, Optional.empty(), prefix.map(Cidr::parsePrefix), Hook.DNAT, ttl, false,
                true, false);
    }
}
