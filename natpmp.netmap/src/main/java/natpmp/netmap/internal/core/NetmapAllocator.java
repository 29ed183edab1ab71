// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import natpmp.api.NetmapBinding;
import natpmp.api.NetmapPoolStats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The subnet mapper: pools, the global prenat index and the decisions of the DNETMAP target (SPEC section C).
 *
 * <h2>Decisions</h2>
 * {@link #snat} is the POSTROUTING target run for the first packet of a new connection, {@link #dnat} the
 * PREROUTING one. Both return the translated address as an unsigned value, or {@link #NO_TRANSLATION} when every
 * rule continued (chain traversal goes on). A decision for a bound host is one hash lookup and allocates nothing.
 *
 * <h2>Deliberate choices where the kernel target is undefined or faulty</h2>
 * <ul>
 * <li>D7: a full-looking pool is searched along its LRU list for any free or expired entry, not only the head.</li>
 * <li>D6: a hit by a rule with a negative ttl leaves stamp and LRU position alone but records {@code lasthit}.</li>
 * <li>D15: {@code lasthit} is the monotonic second of the last hit, unless {@link NetmapSettings#kernelLasthit}.</li>
 * <li>D19: remove and flush unbind (prenat becomes 0.0.0.0), static entries become dynamic, the stamp of a
 * removed entry is {@code now - 1}; static entries are never reclaimed.</li>
 * <li>D12: overlapping pools and pools named with different {@code whole_prefix} are refused.</li>
 * </ul>
 * Expiry is lazy as in the kernel (D8): nothing runs on a timer.
 */
public final class NetmapAllocator {
    /** Returned when no rule translated the packet. */
    public static final long NO_TRANSLATION = -1;
    private static final int MAX_POOLS = 1 << 15;

    /**
     * The result of {@link #configure}.
     *
     * @param accepted the rules in effect, by rank
     * @param refused  one precise message per refused rule
     */
    public record Configuration(List<NetmapRule> accepted, List<String> refused) {
        /** Copies the lists. */
        public Configuration {
            accepted = List.copyOf(accepted);
            refused = List.copyOf(refused);
        }
    }

    /**
     * A binding as the persistence file keeps it.
     *
     * @param prenat          private address
     * @param postnat         public address
     * @param remainingMillis stamp minus now (negative when expired)
     * @param staticBinding   whether static
     */
    public record StoredBinding(int prenat, int postnat, long remainingMillis, boolean staticBinding) {
    }

    private static final class SnatStep {
        final int net;
        final int mask;
        final Pool pool;
        final long ttlMillis;
        final boolean keepStamp;
        final boolean reuse;
        final boolean staticOnly;

        SnatStep(NetmapRule rule, Pool pool, long ttlSeconds) {
            Cidr subnet = rule.subnet().orElse(new Cidr(0, 0));
            this.net = subnet.network();
            this.mask = subnet.mask();
            this.pool = pool;
            this.ttlMillis = ttlSeconds * 1000;
            this.keepStamp = ttlSeconds < 0;
            this.reuse = rule.reuse();
            this.staticOnly = rule.staticOnly();
        }
    }

    private static final class DnatStep {
        final Pool pool;
        final long ttlMillis;
        final boolean keepStamp;

        DnatStep(Pool pool, long ttlSeconds) {
            this.pool = pool;
            this.ttlMillis = ttlSeconds * 1000;
            this.keepStamp = ttlSeconds < 0;
        }
    }

    private final NetmapEvents events;
    private NetmapSettings settings;
    private final IntIntMap prenatIndex = new IntIntMap();
    private final Pool[] byId = new Pool[MAX_POOLS];
    /** Pools in order of creation. */
    private Pool[] pools = new Pool[0];
    private SnatStep[] snatSteps = new SnatStep[0];
    private DnatStep[] dnatSteps = new DnatStep[0];
    private List<NetmapRule> rules = List.of();

    /**
     * @param settings the global settings
     * @param events   receives log events and binding changes
     */
    public NetmapAllocator(NetmapSettings settings, NetmapEvents events) {
        this.settings = settings;
        this.events = events;
    }

    /** @return the settings in effect */
    public NetmapSettings settings() {
        return settings;
    }

    /**
     * Changes the global settings; the rules are recompiled so a new default ttl applies at once.
     *
     * @param newSettings the settings
     */
    public void settings(NetmapSettings newSettings) {
        this.settings = newSettings;
        compile(rules);
    }

    /** @return the rules in effect, by rank */
    public List<NetmapRule> rules() {
        return rules;
    }

    /**
     * Puts a new rule set in effect. Rules are taken by rank; a rule whose pool overlaps the pool of an earlier
     * accepted rule, or names it with another {@code whole_prefix}, is refused (D12). Pools that stay keep
     * their bindings (D2: like an atomic table replace); pools no rule names any more are destroyed with their
     * bindings ({@link NetmapEvents#released}); new ones are created ({@link NetmapEvents#newPrefix}).
     *
     * @param newRules the rules, any order
     * @param now      monotonic millis
     * @return what was accepted and why the others were refused
     */
    public Configuration configure(List<NetmapRule> newRules, long now) {
        List<NetmapRule> sorted = new ArrayList<>(newRules);
        sorted.sort(Comparator.comparingInt(NetmapRule::rank).thenComparing(NetmapRule::name));
        List<NetmapRule> accepted = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Map<Cidr, NetmapRule> owners = new LinkedHashMap<>();
        for (NetmapRule rule : sorted) {
            Optional<String> problem = rule.prefix().flatMap(p -> conflict(rule, p, owners));
            if (problem.isPresent()) {
                refused.add(problem.get());
                continue;
            }
            rule.prefix().ifPresent(p -> owners.putIfAbsent(p, rule));
            accepted.add(rule);
        }
        // destroy first: a new pool may overlap one that goes away
        for (Pool pool : pools) {
            NetmapRule owner = owners.get(pool.prefix);
            if (owner == null || owner.wholePrefix() != pool.wholePrefix) {
                destroy(pool);
            }
        }
        for (Map.Entry<Cidr, NetmapRule> e : owners.entrySet()) {
            if (find(e.getKey()) == null) {
                create(e.getKey(), e.getValue().wholePrefix(), now);
            }
        }
        List<Pool> ordered = new ArrayList<>();
        for (Cidr prefix : owners.keySet()) {
            ordered.add(find(prefix));
        }
        pools = ordered.toArray(new Pool[0]);
        compile(accepted);
        return new Configuration(accepted, refused);
    }

    private static Optional<String> conflict(NetmapRule rule, Cidr prefix, Map<Cidr, NetmapRule> owners) {
        for (Map.Entry<Cidr, NetmapRule> e : owners.entrySet()) {
            Cidr other = e.getKey();
            if (other.equals(prefix)) {
                if (e.getValue().wholePrefix() != rule.wholePrefix()) {
                    return Optional.of("rule " + rule.name() + " refused: pool " + prefix
                            + " is used with whole_prefix=" + e.getValue().wholePrefix() + " by rule "
                            + e.getValue().name()
                            + "; rules sharing a pool must agree (SPEC D3)");
                }
                return Optional.empty();
            }
            if (other.overlaps(prefix)) {
                return Optional.of("rule " + rule.name() + " refused: pool " + prefix + " overlaps pool " + other
                        + " of rule " + e.getValue().name() + " (SPEC D12)");
            }
        }
        return Optional.empty();
    }

    private void compile(List<NetmapRule> accepted) {
        List<SnatStep> snat = new ArrayList<>();
        List<DnatStep> dnat = new ArrayList<>();
        for (NetmapRule rule : accepted) {
            long ttl = rule.ttlSeconds().isPresent() ? rule.ttlSeconds().getAsInt() : settings.defaultTtlSeconds();
            Pool pool = rule.prefix().map(this::find).orElse(null);
            if (rule.hook().snat()) {
                snat.add(new SnatStep(rule, pool, ttl));
            }
            if (rule.hook().dnat()) {
                dnat.add(new DnatStep(pool, ttl));
            }
        }
        snatSteps = snat.toArray(new SnatStep[0]);
        dnatSteps = dnat.toArray(new DnatStep[0]);
        rules = List.copyOf(accepted);
    }

    private Pool find(Cidr prefix) {
        for (Pool p : byId) {
            if (p != null && p.prefix.equals(prefix)) {
                return p;
            }
        }
        return null;
    }

    private void create(Cidr prefix, boolean wholePrefix, long now) {
        for (int id = 0; id < MAX_POOLS; id++) {
            if (byId[id] == null) {
                byId[id] = new Pool(id, prefix, wholePrefix, now);
                events.newPrefix(prefix);
                return;
            }
        }
        throw new IllegalStateException("too many pools");
    }

    private void destroy(Pool pool) {
        for (int i = 0; i < pool.size; i++) {
            int pre = pool.prenat[i];
            if (pre != 0) {
                unbind(pool, i);
                events.released(pre, pool.postnat(i));
            }
        }
        byId[pool.id] = null;
        events.prefixDestroyed(pool.prefix);
    }

    // ---------------------------------------------------------------- decisions

    /**
     * The POSTROUTING decision for a new connection from {@code source} (D4, D5, D6).
     *
     * @param source the private address
     * @param now    monotonic millis
     * @return the public address (unsigned), or {@link #NO_TRANSLATION}
     */
    public long snat(int source, long now) {
        SnatStep[] steps = snatSteps;
        for (SnatStep step : steps) {
            if ((source & step.mask) != step.net) {
                continue;
            }
            long result = snatStep(step, source, now);
            if (result != NO_TRANSLATION) {
                return result;
            }
        }
        return NO_TRANSLATION;
    }

    private long snatStep(SnatStep step, int source, long now) {
        int ref = prenatIndex.get(source);
        if (ref != IntIntMap.MISSING) {
            Pool p = byId[ref >>> 16];
            int i = ref & 0xffff;
            boolean expired = !p.statik[i] && p.stamp[i] < now;
            // D5: reuse set, still active, or same prefix -> keep the address, refresh with this rule's ttl
            if (step.reuse || !expired || p == step.pool) {
                hit(p, i, step.ttlMillis, step.keepStamp, now);
                return p.postnat(i) & 0xffffffffL;
            }
            if (step.staticOnly) {
                return NO_TRANSLATION;
            }
            // D5: expired in another prefix without --reuse -> drop it and allocate in this rule's prefix
            int post = p.postnat(i);
            unbind(p, i);
            events.timedOut(source, post);
        } else if (step.staticOnly) {
            return NO_TRANSLATION;
        }
        Pool p = step.pool;
        int i = p.reclaimable(now);
        if (i < 0) {
            // D4: prefix full -> XT_CONTINUE; D17 (v2): reported once per full episode
            if (!p.fullReported) {
                p.fullReported = true;
                events.noFreeAddress(source, p.prefix);
            }
            return NO_TRANSLATION;
        }
        int post = p.postnat(i);
        int old = p.prenat[i];
        if (old != 0) {
            unbind(p, i);
            events.timedOut(old, post);
        }
        // D6: a new binding gets now + ttl even when ttl is negative (born expired)
        bind(p, i, source, now + step.ttlMillis, false, now);
        p.fullReported = false;
        events.bound(source, post);
        return post & 0xffffffffL;
    }

    /**
     * The PREROUTING decision for a new connection to {@code destination} (D8, D9).
     *
     * @param destination the public address
     * @param now         monotonic millis
     * @return the private address (unsigned), or {@link #NO_TRANSLATION}
     */
    public long dnat(int destination, long now) {
        DnatStep[] steps = dnatSteps;
        for (DnatStep step : steps) {
            Pool p = step.pool;
            int i;
            if (p != null) {
                i = p.indexOf(destination);
            } else {
                i = -1;
                for (Pool candidate : pools) {
                    i = candidate.indexOf(destination);
                    if (i >= 0) {
                        p = candidate;
                        break;
                    }
                }
            }
            if (i < 0 || p.prenat[i] == 0) {
                continue;
            }
            if (!settings.dnatExpired() && !p.statik[i] && p.stamp[i] < now) {
                continue;
            }
            hit(p, i, step.ttlMillis, step.keepStamp, now);
            return p.prenat[i] & 0xffffffffL;
        }
        return NO_TRANSLATION;
    }

    private static void hit(Pool p, int i, long ttlMillis, boolean keepStamp, long now) {
        p.lastHit[i] = now;
        if (keepStamp || p.statik[i]) {
            return; // D6: negative ttl leaves the stamp (and so the LRU position) alone
        }
        long stamp = now + ttlMillis;
        p.stamp[i] = stamp;
        p.lowerEarliest(stamp);
        p.touch(i);
    }

    private void bind(Pool p, int i, int pre, long stamp, boolean statik, long now) {
        prenatIndex.put(pre, (p.id << 16) | i);
        p.prenat[i] = pre;
        p.boundCount++;
        p.stamp[i] = stamp;
        p.lastHit[i] = now;
        if (statik) {
            p.statik[i] = true;
            p.staticCount++;
        } else {
            p.lowerEarliest(stamp);
        }
        p.touch(i);
    }

    private void unbind(Pool p, int i) {
        prenatIndex.remove(p.prenat[i]);
        p.prenat[i] = 0;
        p.boundCount--;
        if (p.statik[i]) {
            p.statik[i] = false;
            p.staticCount--;
        }
    }

    // ---------------------------------------------------------------- administration (D19)

    /**
     * Adds a static binding ({@code +pre:post}); bindings of either address in the way are removed
     * ({@link NetmapEvents#removed}).
     *
     * @param pre  private address
     * @param post public address
     * @param now  monotonic millis
     * @throws IllegalArgumentException with the kernel's message when not possible
     */
    public void addStatic(int pre, int post, long now) {
        Pool p = poolOf(post);
        int i = p == null ? -1 : p.indexOf(post);
        if (i < 0) {
            throw new IllegalArgumentException("postnat ip must belong to postnat prefix: " + Ipv4.format(post));
        }
        if (p.prefix.contains(pre)) {
            throw new IllegalArgumentException("prenat ip can't belong to postnat prefix: " + Ipv4.format(pre));
        }
        if (pre == 0) {
            throw new IllegalArgumentException("prenat ip must not be 0.0.0.0");
        }
        if (p.prenat[i] == pre && p.statik[i]) {
            return;
        }
        int ref = prenatIndex.get(pre);
        if (ref != IntIntMap.MISSING) {
            Pool q = byId[ref >>> 16];
            int j = ref & 0xffff;
            int oldPost = q.postnat(j);
            unbind(q, j);
            events.removed(pre, oldPost);
        }
        if (p.prenat[i] != 0) {
            int oldPre = p.prenat[i];
            unbind(p, i);
            events.removed(oldPre, post);
        }
        bind(p, i, pre, now, true, now);
        events.staticAdded(pre, post);
    }

    /**
     * Removes the binding of an address given as prenat or postnat ({@code -addr}). The entry becomes free and
     * dynamic with stamp {@code now - 1}.
     *
     * @param address either side
     * @param now     monotonic millis
     * @return whether a binding was removed
     */
    public boolean remove(int address, long now) {
        Pool p;
        int i;
        int ref = prenatIndex.get(address);
        if (ref != IntIntMap.MISSING) {
            p = byId[ref >>> 16];
            i = ref & 0xffff;
        } else {
            p = poolOf(address);
            i = p == null ? -1 : p.indexOf(address);
            if (i < 0 || p.prenat[i] == 0) {
                return false;
            }
        }
        int pre = p.prenat[i];
        unbind(p, i);
        p.stamp[i] = now - 1;
        events.removed(pre, p.postnat(i));
        return true;
    }

    /**
     * Unbinds every binding of a pool ({@code flush}); statics too.
     *
     * @param prefix the pool
     * @return the number of bindings removed
     * @throws IllegalArgumentException if there is no such pool
     */
    public int flush(Cidr prefix) {
        Pool p = pool(prefix);
        events.flushed(prefix);
        int count = 0;
        for (int i = 0; i < p.size; i++) {
            int pre = p.prenat[i];
            if (pre != 0) {
                unbind(p, i);
                events.released(pre, p.postnat(i));
                count++;
            }
        }
        p.fullReported = false;
        return count;
    }

    /**
     * Restores a saved binding without events; skipped when its pool is gone or either side is taken.
     *
     * @param saved the saved binding
     * @param now   monotonic millis
     * @return whether it was restored
     */
    public boolean restore(StoredBinding saved, long now) {
        Pool p = poolOf(saved.postnat());
        int i = p == null ? -1 : p.indexOf(saved.postnat());
        if (i < 0 || p.prenat[i] != 0 || saved.prenat() == 0 || prenatIndex.get(saved.prenat()) != IntIntMap.MISSING
                || (saved.staticBinding() && p.prefix.contains(saved.prenat()))) {
            return false;
        }
        bind(p, i, saved.prenat(), now + saved.remainingMillis(), saved.staticBinding(), now);
        return true;
    }

    // ---------------------------------------------------------------- reading

    private Pool poolOf(int address) {
        for (Pool p : pools) {
            if (p.prefix.contains(address)) {
                return p;
            }
        }
        return null;
    }

    private Pool pool(Cidr prefix) {
        for (Pool p : pools) {
            if (p.prefix.equals(prefix)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no pool " + prefix);
    }

    /** @return the pools in rule order */
    public List<Cidr> pools() {
        List<Cidr> out = new ArrayList<>();
        for (Pool p : pools) {
            out.add(p.prefix);
        }
        return out;
    }

    /**
     * @param prenat a private address
     * @return whether it has a binding (active or expired, D8)
     */
    public boolean isBound(int prenat) {
        return prenatIndex.get(prenat) != IntIntMap.MISSING;
    }

    /** @return the number of bindings (prenat index size) */
    public int bindingCount() {
        return prenatIndex.size();
    }

    /**
     * Calls {@code visitor} for every dynamic binding whose ttl ran out (stamp &lt; now) and that is still kept
     * (lazy expiry, D8).
     *
     * @param now     monotonic millis
     * @param visitor receives prenat and postnat
     */
    public void forEachExpired(long now, java.util.function.BiConsumer<Integer, Integer> visitor) {
        for (Pool p : pools) {
            for (int i = 0; i < p.size; i++) {
                if (p.prenat[i] != 0 && !p.statik[i] && p.stamp[i] < now) {
                    visitor.accept(p.prenat[i], p.postnat(i));
                }
            }
        }
    }

    /**
     * @param now monotonic millis
     * @return every binding, static or dynamic, expired or not
     */
    public List<StoredBinding> storedBindings(long now) {
        List<StoredBinding> out = new ArrayList<>();
        for (Pool p : pools) {
            for (int i = 0; i < p.size; i++) {
                if (p.prenat[i] != 0) {
                    out.add(new StoredBinding(p.prenat[i], p.postnat(i), p.stamp[i] - now, p.statik[i]));
                }
            }
        }
        return out;
    }

    /**
     * @param now monotonic millis
     * @return every binding as the API shows it, by pool and ascending postnat
     */
    public List<NetmapBinding> bindings(long now) {
        List<NetmapBinding> out = new ArrayList<>();
        for (Pool p : pools) {
            for (int i = 0; i < p.size; i++) {
                if (p.prenat[i] != 0) {
                    out.add(new NetmapBinding(Ipv4.toAddress(p.prenat[i]), Ipv4.toAddress(p.postnat(i)),
                            ttlSeconds(p, i, now), lasthit(p, i), p.prefix.toString(), p.statik[i]));
                }
            }
        }
        return out;
    }

    /**
     * D16: used = dynamic bindings with stamp - now &gt;= 0; mean ttl = their remaining time / used, whole seconds.
     *
     * @param prefix the pool
     * @param now    monotonic millis
     * @return its statistics
     * @throws IllegalArgumentException if there is no such pool
     */
    public NetmapPoolStats stats(Cidr prefix, long now) {
        Pool p = pool(prefix);
        int used = 0;
        long remaining = 0;
        for (int i = 0; i < p.size; i++) {
            if (p.prenat[i] != 0 && !p.statik[i] && p.stamp[i] - now >= 0) {
                used++;
                remaining += p.stamp[i] - now;
            }
        }
        long mean = used == 0 ? 0 : remaining / (used * 1000L);
        return new NetmapPoolStats(prefix.toString(), used, p.staticCount, p.size, mean);
    }

    /**
     * The binding table of a pool, one line per address (D14).
     *
     * @param prefix   the pool
     * @param now      monotonic millis
     * @param lruOrder false: ascending address (v2); true: least recently refreshed first (v1)
     * @return the text of {@code /proc/net/xt_DNETMAP/<net>_<bits>}
     * @throws IllegalArgumentException if there is no such pool
     */
    public String procTable(Cidr prefix, long now, boolean lruOrder) {
        Pool p = pool(prefix);
        StringBuilder out = new StringBuilder(p.size * 56);
        int[] order = lruOrder ? p.lruOrder() : null;
        for (int k = 0; k < p.size; k++) {
            int i = order == null ? k : order[k];
            Ipv4.append(out, p.prenat[i]).append(" -> ");
            Ipv4.append(out, p.postnat(i)).append(" --- ttl: ");
            if (p.statik[i]) {
                out.append("S lasthit: S\n");
            } else {
                out.append(ttlSeconds(p, i, now)).append(" lasthit: ").append(Long.toUnsignedString(lasthit(p, i)))
                        .append('\n');
            }
        }
        return out.toString();
    }

    /**
     * The statistics line of a pool, v2 format {@code "%u %u %u %ld %s\n"} (D16); the last field (persistent)
     * is always empty here, so the line ends with a space.
     *
     * @param prefix the pool
     * @param now    monotonic millis
     * @return the text of {@code /proc/net/xt_DNETMAP/<net>_<bits>_stat}
     */
    public String procStat(Cidr prefix, long now) {
        NetmapPoolStats s = stats(prefix, now);
        return s.used() + " " + s.statics() + " " + s.all() + " " + s.meanTtl() + " \n";
    }

    /** D14: (stamp - now) / HZ truncated toward zero. */
    private static long ttlSeconds(Pool p, int i, long now) {
        return (p.stamp[i] - now) / 1000;
    }

    /** D15: the monotonic second of the last hit, or the kernel's (stamp - default_ttl) / HZ. */
    private long lasthit(Pool p, int i) {
        if (settings.kernelLasthit()) {
            return Long.divideUnsigned(p.stamp[i] - settings.defaultTtlSeconds() * 1000, 1000);
        }
        return Math.floorDiv(p.lastHit[i], 1000);
    }
}
