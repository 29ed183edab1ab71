// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.LanNetwork;
import natpmp.api.PortForward;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

/**
 * Renders {@code iptables-restore --noflush} scripts for an owner's chains. Pure: no processes, no clock.
 *
 * <p>Rule layout per {@link PortForward} (proto p, external port E, internal host I, internal port P) with
 * external interface X, external address A (optional) and LAN networks L:
 * <pre>
 * nat    PRE   -i X -p p -m p --dport E -j DNAT --to-destination I:P                          inbound
 * nat    PRE   -s L -d A/32 -p p -m p --dport E -j DNAT --to-destination I:P   (per L, if A)  hairpin N28
 * nat    POST  -s L -d I/32 -p p -m p --dport P -m conntrack --ctstate DNAT -j MASQUERADE (per L, if A)
 * nat    POST  -s I/32 -o X -p p -m p --sport P -j MASQUERADE --to-ports E               bidirectional N27
 * filter FWD   -d I/32 -p p -m p --dport P -m conntrack --ctstate DNAT -j ACCEPT
 * </pre>
 * and per {@link HostBinding} (internal N, external M), placed before every forward of the same chain so the
 * whole external address M belongs to its host:
 * <pre>
 * nat    PRE   -d M/32 -i X -j DNAT --to-destination N
 * nat    POST  -s N/32 -o X -j SNAT --to-source M
 * filter FWD   -d N/32 -m conntrack --ctstate DNAT -j ACCEPT
 * </pre>
 * DNAT from outside is limited to {@code -i X}: without it LAN traffic to the same port on outside hosts
 * would be hijacked.
 *
 * <p>Queue rules ({@link QueueRule}, network S, queue number Q) live in the mangle chain, jumped to from mangle
 * POSTROUTING. That hook runs after the whole filter FORWARD chain (so a queued packet was already allowed by
 * the operator's rules, and an ACCEPT verdict skips nothing of theirs) and before nat POSTROUTING (so the packet
 * meets the SNAT rule of the binding installed while it waited). When the owner has queue rules the chain holds
 * <pre>
 * mangle QUE   -m conntrack ! --ctstate NEW -j RETURN        cheap exit for every packet of a known flow
 * mangle QUE   ! -o X -j RETURN                             only flows leaving through the external interface
 * mangle QUE   -s N/32 -j RETURN                            per binding: bound sources are never queued
 * mangle QUE   -s S -j NFQUEUE --queue-num Q                per queue rule, most specific first
 * </pre>
 * and is empty otherwise. There is no {@code --queue-bypass}: while nobody reads the queue its packets are
 * dropped (fail closed), so no private address leaves untranslated when the daemon is down. Batches insert the
 * RETURN rule of a new binding right after the two guards, in the same script as its SNAT rule.
 *
 * <p>Every rule is written the way {@code iptables-save} prints it (option order, {@code /32} suffixes), so
 * read-back compares strings.
 */
public final class IptablesScript {
    /** Linux interface names: at most 15 characters (IFNAMSIZ - 1); {@code +} is iptables' wildcard. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.@+-]{1,15}");

    private static final String PREROUTING = "PREROUTING";
    private static final String POSTROUTING = "POSTROUTING";
    private static final String FORWARD = "FORWARD";
    /** First rule of a non-empty queue chain: every packet of a known flow leaves the chain at once. */
    private static final String KNOWN_FLOW_GUARD = "-m conntrack ! --ctstate NEW -j RETURN";
    /** Position (1-based) at which a batch inserts a binding's RETURN rule: right after the guards. */
    private static final int FIRST_RETURN_POSITION = 3;
    private static final String COMMIT = "COMMIT\n";

    private IptablesScript() {
    }

    /**
     * Renders the atomic whole-state replace of one owner. In {@code --noflush} mode a chain declaration
     * {@code :CHAIN - [0:0]} creates or flushes only that chain, so nothing outside our chains changes; the
     * jumps are added only where they are missing (and duplicates removed), as {@code present} reports.
     *
     * @param chains  the owner's chains
     * @param state   the desired state
     * @param present how many jumps to each chain exist now
     * @return the script
     */
    public static String reconcile(OwnerChains chains, FirewallState state, JumpCounts present) {
        Topology topology = state.topology();
        requireInterface(topology);
        List<HostBinding> bindings = new ArrayList<>(state.bindings());
        bindings.sort(Order.BINDINGS);
        List<PortForward> forwards = new ArrayList<>(state.forwards());
        forwards.sort(Order.FORWARDS);
        List<QueueRule> queueRules = new ArrayList<>(state.queueRules());
        queueRules.sort(Order.QUEUE_RULES);
        List<String> lans = lanCidrs(topology);

        BitSet shards = OwnerChains.shardMask(forwards);

        StringBuilder nat = new StringBuilder(64 + forwards.size() * 200);
        StringBuilder filter = new StringBuilder(64 + forwards.size() * 100);
        nat.append("*nat\n");
        declare(nat, chains.pre());
        declare(nat, chains.post());
        declareShards(nat, chains.pre());
        declareShards(nat, chains.post());
        jump(nat, PREROUTING, chains.pre(), present.pre());
        jump(nat, POSTROUTING, chains.post(), present.post());
        filter.append("*filter\n");
        declare(filter, chains.fwd());
        declareShards(filter, chains.fwd());
        jump(filter, FORWARD, chains.fwd(), present.fwd());
        // Chain by chain: the bindings, then the jumps to the shards in use, then each shard's forwards.
        for (HostBinding b : bindings) {
            append(nat, chains.pre(), bindingPre(topology, b));
        }
        shardJumps(nat, chains.pre(), shards);
        for (PortForward f : forwards) {
            forwardPre(topology, lans, f, rule -> append(nat, shardChain(chains.pre(), f), rule));
        }
        for (HostBinding b : bindings) {
            append(nat, chains.post(), bindingPost(topology, b));
        }
        shardJumps(nat, chains.post(), shards);
        for (PortForward f : forwards) {
            forwardPost(topology, lans, f, rule -> append(nat, shardChain(chains.post(), f), rule));
        }
        for (HostBinding b : bindings) {
            append(filter, chains.fwd(), bindingFwd(b));
        }
        shardJumps(filter, chains.fwd(), shards);
        for (PortForward f : forwards) {
            append(filter, shardChain(chains.fwd(), f), forwardFwd(f));
        }
        // shards not in use are deleted (nothing jumps to them any more); declared above, so they exist
        BitSet unused = complement(shards);
        deleteShards(nat, chains.pre(), unused);
        deleteShards(nat, chains.post(), unused);
        deleteShards(filter, chains.fwd(), unused);
        nat.append(COMMIT);
        filter.append(COMMIT);
        StringBuilder mangle = new StringBuilder(64 + (queueRules.isEmpty() ? 0 : bindings.size() * 50));
        mangle.append("*mangle\n");
        declare(mangle, chains.que());
        jump(mangle, POSTROUTING, chains.que(), present.que());
        if (!queueRules.isEmpty()) {
            for (String guard : guards(topology)) {
                append(mangle, chains.que(), guard);
            }
            for (HostBinding b : bindings) {
                append(mangle, chains.que(), bindingQue(b));
            }
            for (QueueRule q : queueRules) {
                append(mangle, chains.que(), queue(q));
            }
        }
        mangle.append(COMMIT);
        return nat.append(filter).append(mangle).toString();
    }

    /**
     * Renders one batch for an owner whose shards in use are exactly those of {@code before} (true after a
     * reconcile); see {@link #change(OwnerChains, Topology, boolean, Delta, BitSet, Set)}.
     *
     * @param chains   the owner's chains
     * @param topology the topology of the owner's last reconcile
     * @param queued   whether the owner has queue rules (its queue chain is not empty)
     * @param before   every forward of the owner before the batch
     * @param delta    what to delete and add
     * @return the script, empty if the delta is empty
     */
    public static String change(OwnerChains chains, Topology topology, boolean queued, Set<PortForward> before,
            Delta delta) {
        return change(chains, topology, queued, delta, OwnerChains.shardMask(before), before);
    }

    /**
     * Renders one batch: deletions first, then additions (bindings inserted at the top of their chains so
     * they keep preceding the forwards, forwards appended). One script, one process, however large the batch.
     *
     * The RETURN rules of the queue chain follow the bindings when the owner has queue rules: removed before
     * the binding's nat rules, added after them.
     *
     * Forwards are never deleted one by one: every shard that loses a forward is flushed and filled again with
     * the forwards it keeps, so no {@code -D} has to find a rule among thousands. Added forwards are appended to
     * their shard, which is created (with its jump) when it was not in use yet. A shard that becomes empty stays,
     * with its jump, until the next reconcile.
     *
     * @param chains   the owner's chains
     * @param topology the topology of the owner's last reconcile
     * @param queued   whether the owner has queue rules (its queue chain is not empty)
     * @param delta    what to delete and add
     * @param shards   the shards in use before the batch ({@link OwnerChains#shardMask}); not changed
     * @param before   every forward of the owner before the batch; not changed
     * @return the script, empty if the delta is empty
     */
    public static String change(OwnerChains chains, Topology topology, boolean queued, Delta delta, BitSet shards,
            Set<PortForward> before) {
        requireInterface(topology);
        if (delta.isEmpty()) {
            return "";
        }
        List<String> lans = lanCidrs(topology);
        StringBuilder nat = new StringBuilder("*nat\n");
        StringBuilder filter = new StringBuilder("*filter\n");
        StringBuilder unqueue = new StringBuilder("*mangle\n");
        StringBuilder requeue = new StringBuilder("*mangle\n");
        for (HostBinding b : delta.removeBindings()) {
            delete(nat, chains.pre(), bindingPre(topology, b));
            delete(nat, chains.post(), bindingPost(topology, b));
            delete(filter, chains.fwd(), bindingFwd(b));
            delete(requeue, chains.que(), bindingQue(b));
        }
        BitSet rewritten = OwnerChains.shardMask(delta.removeForwards());
        BitSet rewrittenOrCreated = OwnerChains.shardMask(delta.addForwards());
        rewrittenOrCreated.andNot(shards);
        rewrittenOrCreated.or(rewritten);
        for (int k = rewrittenOrCreated.nextSetBit(0); k >= 0; k = rewrittenOrCreated.nextSetBit(k + 1)) {
            declare(nat, OwnerChains.shard(chains.pre(), k));
            declare(nat, OwnerChains.shard(chains.post(), k));
            declare(filter, OwnerChains.shard(chains.fwd(), k));
        }
        BitSet newJumps = (BitSet) rewrittenOrCreated.clone();
        newJumps.andNot(shards);
        shardJumps(nat, chains.pre(), newJumps);
        shardJumps(nat, chains.post(), newJumps);
        shardJumps(filter, chains.fwd(), newJumps);
        if (!rewritten.isEmpty()) {
            // what the rewritten shards hold after the batch: their forwards that stay, and their new ones
            Set<PortForward> removed = new java.util.HashSet<>(delta.removeForwards());
            List<PortForward> kept = new ArrayList<>();
            for (PortForward f : before) {
                if (rewritten.get(OwnerChains.shardOf(f)) && !removed.contains(f)) {
                    kept.add(f);
                }
            }
            for (PortForward f : delta.addForwards()) {
                if (rewritten.get(OwnerChains.shardOf(f))) {
                    kept.add(f);
                }
            }
            kept.sort(Order.FORWARDS);
            for (PortForward f : kept) {
                forwardPre(topology, lans, f, rule -> append(nat, shardChain(chains.pre(), f), rule));
                forwardPost(topology, lans, f, rule -> append(nat, shardChain(chains.post(), f), rule));
                append(filter, shardChain(chains.fwd(), f), forwardFwd(f));
            }
        }
        for (HostBinding b : delta.addBindings()) {
            insert(nat, chains.pre(), bindingPre(topology, b));
            insert(nat, chains.post(), bindingPost(topology, b));
            insert(filter, chains.fwd(), bindingFwd(b));
            insertAt(unqueue, chains.que(), FIRST_RETURN_POSITION, bindingQue(b));
        }
        List<PortForward> added = new ArrayList<>(delta.addForwards());
        added.sort(Order.FORWARDS);
        for (PortForward f : added) {
            if (rewritten.get(OwnerChains.shardOf(f))) {
                continue; // written with the rest of its shard above
            }
            forwardPre(topology, lans, f, rule -> append(nat, shardChain(chains.pre(), f), rule));
            forwardPost(topology, lans, f, rule -> append(nat, shardChain(chains.post(), f), rule));
            append(filter, shardChain(chains.fwd(), f), forwardFwd(f));
        }
        nat.append(COMMIT);
        filter.append(COMMIT);
        // Each table commits on its own, so the order matters: a source stops bypassing the queue before its
        // SNAT rule goes and starts bypassing it only after its SNAT rule is there. A new connection of a
        // source is thus always either queued or translated, never sent out with its private address.
        StringBuilder script = new StringBuilder();
        if (queued && !delta.removeBindings().isEmpty()) {
            script.append(requeue).append(COMMIT);
        }
        script.append(nat).append(filter);
        if (queued && !delta.addBindings().isEmpty()) {
            script.append(unqueue).append(COMMIT);
        }
        return script.toString();
    }

    /**
     * Renders the emptying of owners' chains, the first step of a release: declaring a chain in
     * {@code --noflush} mode flushes it. Done on its own because iptables-nft reads every rule of a table before
     * a {@code -D}, and with 30,000 of our rules that read makes the release slow (about 0.2 s instead of
     * 0.05 s) and easy to push back by other nftables commits; after this step the read is small.
     *
     * @param owners the owners' chains
     * @return the script
     */
    public static String flush(List<OwnerChains> owners) {
        StringBuilder nat = new StringBuilder("*nat\n");
        StringBuilder filter = new StringBuilder("*filter\n");
        StringBuilder mangle = new StringBuilder("*mangle\n");
        for (OwnerChains c : owners) {
            declare(nat, c.pre());
            declare(nat, c.post());
            declare(filter, c.fwd());
            declare(mangle, c.que());
            declareShards(nat, c.pre());
            declareShards(nat, c.post());
            declareShards(filter, c.fwd());
        }
        nat.append(COMMIT);
        filter.append(COMMIT);
        mangle.append(COMMIT);
        return nat.append(filter).append(mangle).toString();
    }

    /**
     * Renders the removal of owners: their jumps are deleted (as many as exist), their chains flushed by
     * declaration and then deleted. Declaring a chain that does not exist creates it, so release also works
     * for chains left behind by an earlier run.
     *
     * @param owners the owners to release, each with its current jump counts
     * @return the script
     */
    public static String release(List<Release> owners) {
        StringBuilder nat = new StringBuilder("*nat\n");
        StringBuilder filter = new StringBuilder("*filter\n");
        StringBuilder mangle = new StringBuilder("*mangle\n");
        for (Release r : owners) {
            OwnerChains c = r.chains();
            repeat(nat, "-D " + PREROUTING + " -j " + c.pre(), r.jumps().pre());
            repeat(nat, "-D " + POSTROUTING + " -j " + c.post(), r.jumps().post());
            repeat(filter, "-D " + FORWARD + " -j " + c.fwd(), r.jumps().fwd());
            repeat(mangle, "-D " + POSTROUTING + " -j " + c.que(), r.jumps().que());
        }
        for (Release r : owners) {
            declare(nat, r.chains().pre());
            declare(nat, r.chains().post());
            declare(filter, r.chains().fwd());
            declare(mangle, r.chains().que());
            declareShards(nat, r.chains().pre());
            declareShards(nat, r.chains().post());
            declareShards(filter, r.chains().fwd());
        }
        for (Release r : owners) {
            nat.append("-X ").append(r.chains().pre()).append('\n');
            nat.append("-X ").append(r.chains().post()).append('\n');
            filter.append("-X ").append(r.chains().fwd()).append('\n');
            mangle.append("-X ").append(r.chains().que()).append('\n');
            BitSet all = complement(new BitSet());
            deleteShards(nat, r.chains().pre(), all);
            deleteShards(nat, r.chains().post(), all);
            deleteShards(filter, r.chains().fwd(), all);
        }
        nat.append(COMMIT);
        filter.append(COMMIT);
        mangle.append(COMMIT);
        return nat.append(filter).append(mangle).toString();
    }

    /**
     * One owner to release.
     *
     * @param chains the owner's chains
     * @param jumps  how many jumps to them exist now
     */
    public record Release(OwnerChains chains, JumpCounts jumps) {
    }

    /**
     * @param topology   the topology
     * @param forwards   how many forwards
     * @param bindings   how many bindings
     * @param queueRules how many queue rules
     * @param shards     how many shard chains are in use (each has a jump in the pre, post and fwd chains)
     * @return how many rules each chain holds for that state
     */
    public static RuleCounts expectedCounts(Topology topology, long forwards, long bindings, long queueRules,
            int shards) {
        long perForward = 1 + (topology.externalAddress().isPresent() ? lanCidrs(topology).size() : 0);
        long que = queueRules == 0 ? 0 : guards(topology).size() + bindings + queueRules;
        long jumps = shards;
        return new RuleCounts(forwards * perForward + bindings + jumps, forwards * perForward + bindings + jumps,
                forwards + bindings + jumps, que);
    }

    /**
     * @param chains   the owner's chains
     * @param topology the topology
     * @param forward  a forward
     * @return every rule that forward needs
     */
    public static List<Rule> rules(OwnerChains chains, Topology topology, PortForward forward) {
        List<String> lans = lanCidrs(topology);
        List<Rule> rules = new ArrayList<>();
        String pre = shardChain(chains.pre(), forward);
        String post = shardChain(chains.post(), forward);
        forwardPre(topology, lans, forward, spec -> rules.add(new Rule(Rule.NAT, pre, spec)));
        forwardPost(topology, lans, forward, spec -> rules.add(new Rule(Rule.NAT, post, spec)));
        rules.add(new Rule(Rule.FILTER, shardChain(chains.fwd(), forward), forwardFwd(forward)));
        return rules;
    }

    /**
     * @param chains   the owner's chains
     * @param topology the topology
     * @param binding  a binding
     * @return every rule that binding needs
     */
    public static List<Rule> rules(OwnerChains chains, Topology topology, HostBinding binding) {
        return rules(chains, topology, binding, false);
    }

    /**
     * @param chains   the owner's chains
     * @param topology the topology
     * @param binding  a binding
     * @param queued   whether the owner has queue rules (then the binding has a RETURN rule in the queue chain)
     * @return every rule that binding needs
     */
    public static List<Rule> rules(OwnerChains chains, Topology topology, HostBinding binding, boolean queued) {
        List<Rule> rules = new ArrayList<>(List.of(new Rule(Rule.NAT, chains.pre(), bindingPre(topology, binding)),
                new Rule(Rule.NAT, chains.post(), bindingPost(topology, binding)),
                new Rule(Rule.FILTER, chains.fwd(), bindingFwd(binding))));
        if (queued) {
            rules.add(new Rule(Rule.MANGLE, chains.que(), bindingQue(binding)));
        }
        return List.copyOf(rules);
    }

    /**
     * @param chains   the owner's chains
     * @param topology the topology
     * @param rule     a queue rule
     * @return every rule that queue rule needs (the shared guards and its NFQUEUE rule)
     */
    public static List<Rule> rules(OwnerChains chains, Topology topology, QueueRule rule) {
        List<Rule> rules = new ArrayList<>();
        for (String guard : guards(topology)) {
            rules.add(new Rule(Rule.MANGLE, chains.que(), guard));
        }
        rules.add(new Rule(Rule.MANGLE, chains.que(), queue(rule)));
        return List.copyOf(rules);
    }

    // --- rule bodies, in iptables-save's option order: -s -d -i -o -p -m ... -j

    private static void forwardPre(Topology t, List<String> lans, PortForward f, Consumer<String> out) {
        String proto = proto(f);
        String target = " -j DNAT --to-destination " + host(f.internalAddress()) + ":" + f.internalPort();
        out.accept("-i " + t.externalInterface() + proto + " --dport " + f.externalPort() + target);
        // N28 hairpin: LAN hosts reach the mapping through the external address.
        t.externalAddress().ifPresent(a -> {
            for (String lan : lans) {
                out.accept(source(lan) + "-d " + host(a) + "/32" + proto + " --dport " + f.externalPort() + target);
            }
        });
    }

    private static void forwardPost(Topology t, List<String> lans, PortForward f,
            Consumer<String> out) {
        String proto = proto(f);
        // N28: hairpinned flows are masqueraded so the internal host answers through the gateway.
        if (t.externalAddress().isPresent()) {
            for (String lan : lans) {
                out.accept(source(lan) + "-d " + host(f.internalAddress()) + "/32" + proto + " --dport "
                        + f.internalPort() + " -m conntrack --ctstate DNAT -j MASQUERADE");
            }
        }
        // N27 / RFC 6886 §3.3: mappings are bidirectional, outbound flows from I:P leave with port E.
        out.accept("-s " + host(f.internalAddress()) + "/32 -o " + t.externalInterface() + proto + " --sport "
                + f.internalPort() + " -j MASQUERADE --to-ports " + f.externalPort());
    }

    private static String forwardFwd(PortForward f) {
        return "-d " + host(f.internalAddress()) + "/32" + proto(f) + " --dport " + f.internalPort()
                + " -m conntrack --ctstate DNAT -j ACCEPT";
    }

    private static String bindingPre(Topology t, HostBinding b) {
        return "-d " + host(b.externalAddress()) + "/32 -i " + t.externalInterface() + " -j DNAT --to-destination "
                + host(b.internalAddress());
    }

    private static String bindingPost(Topology t, HostBinding b) {
        return "-s " + host(b.internalAddress()) + "/32 -o " + t.externalInterface() + " -j SNAT --to-source "
                + host(b.externalAddress());
    }

    private static String bindingFwd(HostBinding b) {
        return "-d " + host(b.internalAddress()) + "/32 -m conntrack --ctstate DNAT -j ACCEPT";
    }

    /** The RETURN rule that keeps a bound source out of the queue. */
    private static String bindingQue(HostBinding b) {
        return "-s " + host(b.internalAddress()) + "/32 -j RETURN";
    }

    /** The guards of a non-empty queue chain: known flows and flows not leaving through X return at once. */
    private static List<String> guards(Topology t) {
        return List.of(KNOWN_FLOW_GUARD, "! -o " + t.externalInterface() + " -j RETURN");
    }

    private static String queue(QueueRule q) {
        return source(q.cidr()) + "-j NFQUEUE --queue-num " + q.queueNumber();
    }

    private static String proto(PortForward f) {
        String p = f.protocol().keyword();
        return " -p " + p + " -m " + p;
    }

    /** iptables-save leaves out a source of 0.0.0.0/0. */
    private static String source(String cidr) {
        return cidr.endsWith("/0") ? "" : "-s " + cidr + " ";
    }

    static String host(Inet4Address a) {
        return a.getHostAddress();
    }

    private static List<String> lanCidrs(Topology topology) {
        Set<String> cidrs = new LinkedHashSet<>();
        for (LanNetwork lan : topology.lanNetworks()) {
            cidrs.add(lan.cidr());
        }
        return List.copyOf(cidrs);
    }

    /**
     * @param topology a topology
     * @throws IllegalArgumentException if its external interface name cannot be used in a rule
     */
    public static void requireValid(Topology topology) {
        requireInterface(topology);
    }

    private static void requireInterface(Topology topology) {
        if (!INTERFACE.matcher(topology.externalInterface()).matches()) {
            throw new IllegalArgumentException("external interface must be 1 to 15 characters of [A-Za-z0-9_.@+-], was '"
                    + topology.externalInterface() + "'");
        }
    }

    // --- script lines

    private static String shardChain(String chain, PortForward f) {
        return OwnerChains.shard(chain, OwnerChains.shardOf(f));
    }

    private static void declareShards(StringBuilder b, String chain) {
        for (int k = 0; k < OwnerChains.SHARDS; k++) {
            declare(b, OwnerChains.shard(chain, k));
        }
    }

    private static void shardJumps(StringBuilder b, String chain, BitSet shards) {
        for (int k = shards.nextSetBit(0); k >= 0; k = shards.nextSetBit(k + 1)) {
            append(b, chain, "-j " + OwnerChains.shard(chain, k));
        }
    }

    private static void deleteShards(StringBuilder b, String chain, BitSet shards) {
        for (int k = shards.nextSetBit(0); k >= 0; k = shards.nextSetBit(k + 1)) {
            b.append("-X ").append(OwnerChains.shard(chain, k)).append('\n');
        }
    }

    private static BitSet complement(BitSet shards) {
        BitSet c = new BitSet(OwnerChains.SHARDS);
        c.set(0, OwnerChains.SHARDS);
        c.andNot(shards);
        return c;
    }

    private static void declare(StringBuilder b, String chain) {
        b.append(':').append(chain).append(" - [0:0]\n");
    }

    private static void jump(StringBuilder b, String builtin, String chain, int present) {
        if (present == 0) {
            // At the top, so a DROP rule or REJECT later in the built-in chain cannot beat our accepts.
            b.append("-I ").append(builtin).append(" 1 -j ").append(chain).append('\n');
        }
        repeat(b, "-D " + builtin + " -j " + chain, present - 1);
    }

    private static void repeat(StringBuilder b, String line, int times) {
        for (int i = 0; i < times; i++) {
            b.append(line).append('\n');
        }
    }

    private static void append(StringBuilder b, String chain, String spec) {
        b.append("-A ").append(chain).append(' ').append(spec).append('\n');
    }

    private static void insert(StringBuilder b, String chain, String spec) {
        b.append("-I ").append(chain).append(" 1 ").append(spec).append('\n');
    }

    private static void insertAt(StringBuilder b, String chain, int position, String spec) {
        b.append("-I ").append(chain).append(' ').append(position).append(' ').append(spec).append('\n');
    }

    private static void delete(StringBuilder b, String chain, String spec) {
        b.append("-D ").append(chain).append(' ').append(spec).append('\n');
    }
}
