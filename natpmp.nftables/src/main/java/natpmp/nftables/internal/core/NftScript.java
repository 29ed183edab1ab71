// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.LanNetwork;
import natpmp.api.PortForward;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

/**
 * Renders {@code nft -f -} transactions for the one {@code ip} table the backend owns. Pure: no processes,
 * no clock. Every script is applied by the kernel as one atomic transaction.
 *
 * <p>Layout: four base chains ({@code prerouting} nat/dstnat-1, {@code postrouting} nat/srcnat-1,
 * {@code forward} filter/filter, {@code firstpacket} filter at postrouting/mangle) that only jump to each owner's
 * regular chains; each owner's chains hold a fixed handful of rules that look mappings up in the owner's maps and
 * sets, so the rule count never grows with the number of mappings. For owner O with external interface X,
 * external address A (optional), LAN networks L and queue rules (network S, queue number Q):
 * <pre>
 * pre_O   iifname X dnat ip to ip daddr map @bindin_O                               1:1 bindings first
 * pre_O   iifname X dnat ip to meta l4proto . th dport map @dnat_O                  inbound forwards
 * pre_O   ip saddr {L} ip daddr A dnat ip to meta l4proto . th dport map @dnat_O    hairpin N28 (if A, L)
 * post_O  oifname X snat ip to ip saddr map @bindout_O
 * post_O  ip saddr {L} ct status dnat ip daddr . meta l4proto . th dport @targets_O masquerade   (if A, L)
 * post_O  oifname X meta l4proto { tcp, udp } masquerade to : ip saddr . meta l4proto . th sport map @sport_O  N27
 * fwd_O   ct status dnat ip daddr @bindhosts_O accept
 * fwd_O   ct status dnat ip daddr . meta l4proto . th dport @targets_O accept
 * queue_O ct state new oifname X ip saddr S ip saddr != @bindhosts_O queue num Q    per queue rule
 * </pre>
 * N27 uses masquerade with a port map, so it works without knowing the external address.
 *
 * <p>The queue rules sit at postrouting with priority mangle: after every forward-hook decision (so a queued
 * packet was allowed by the operator's rules) and before source NAT (so the accepted packet meets the
 * {@code bindout_O} element added while it waited). A bound source is skipped by one set lookup, the same
 * {@code bindhosts_O} set that batches update together with the binding maps, in one transaction. No
 * {@code bypass}: while nobody reads the queue its packets are dropped, so a private source never leaks. The
 * kernel needs the nft queue expression ({@code CONFIG_NFT_QUEUE}, module {@code nft_queue}).
 */
public final class NftScript {
    /** The nat base chain at prerouting. */
    public static final String PREROUTING = "prerouting";
    /** The nat base chain at postrouting. */
    public static final String POSTROUTING = "postrouting";
    /** The filter base chain at forward. */
    public static final String FORWARD = "forward";
    /** The filter base chain at postrouting (priority mangle) holding the owners' queue rules. */
    public static final String FIRSTPACKET = "firstpacket";

    /** Elements per {@code add element} line: keeps lines readable in large transactions. */
    private static final int CHUNK = 1000;
    /** Linux interface names (IFNAMSIZ - 1); a trailing {@code +} is iptables' wildcard, nft's {@code *}. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.@-]{1,15}|[A-Za-z0-9_.@-]{1,14}\\+");

    private static final String DNAT_TYPE = "type inet_proto . inet_service : ipv4_addr . inet_service;";
    private static final String SPORT_TYPE = "type ipv4_addr . inet_proto . inet_service : inet_service;";
    private static final String TARGETS_TYPE = "type ipv4_addr . inet_proto . inet_service;";
    private static final String BIND_TYPE = "type ipv4_addr : ipv4_addr;";
    private static final String HOSTS_TYPE = "type ipv4_addr;";

    private NftScript() {
    }

    /**
     * One owner's whole state to write.
     *
     * @param names the owner's names
     * @param state the desired state
     */
    public record Section(OwnerNames names, FirewallState state) {
    }

    /** What kind of nft object a name is. */
    private enum Kind {
        MAP, SET
    }

    private record Container(Kind kind, String name, String type) {
    }

    private static List<Container> containers(OwnerNames n) {
        return List.of(new Container(Kind.MAP, n.dnat(), DNAT_TYPE), new Container(Kind.MAP, n.sport(), SPORT_TYPE),
                new Container(Kind.SET, n.targets(), TARGETS_TYPE), new Container(Kind.MAP, n.bindIn(), BIND_TYPE),
                new Container(Kind.MAP, n.bindOut(), BIND_TYPE), new Container(Kind.SET, n.bindHosts(), HOSTS_TYPE));
    }

    /**
     * Renders the atomic replace of some owners' sections. Owners not in {@code sections} keep their maps and
     * elements untouched; only the base chains are rewritten so that each jumps exactly once to every owner.
     *
     * @param table    our table
     * @param fresh    whether to delete the whole table first (first use in this run, or repair from scratch)
     * @param sections the owners to replace
     * @param owners   every owner that must stay installed afterwards (including those of {@code sections})
     * @return the script
     */
    public static String replace(String table, boolean fresh, List<Section> sections, Collection<String> owners) {
        StringBuilder b = new StringBuilder(256 + sections.stream()
                .mapToInt(s -> s.state().forwards().size() * 120 + s.state().bindings().size() * 60).sum());
        line(b, "add table ip " + table);
        if (fresh) {
            // add + delete: the delete cannot fail, and whatever an earlier run left behind is gone.
            line(b, "delete table ip " + table);
            line(b, "add table ip " + table);
        }
        for (Section s : sections) {
            requireValid(s.state());
            OwnerNames n = s.names();
            for (String chain : n.chains()) {
                line(b, "add chain ip " + table + " " + chain);
                if (!fresh) {
                    line(b, "flush chain ip " + table + " " + chain);
                }
            }
            for (Container c : containers(n)) {
                line(b, "add " + keyword(c) + " ip " + table + " " + c.name() + " { " + c.type() + " }");
                if (!fresh) {
                    line(b, "flush " + keyword(c) + " ip " + table + " " + c.name());
                }
            }
            for (Map.Entry<String, List<String>> chain : rules(n, s.state().topology(), s.state().queueRules())
                    .entrySet()) {
                for (String rule : chain.getValue()) {
                    line(b, "add rule ip " + table + " " + chain.getKey() + " " + rule);
                }
            }
            for (Map.Entry<String, List<String>> set : elementLists(n, s.state().forwards(), s.state().bindings())
                    .entrySet()) {
                addElements(b, "add", table, set.getKey(), set.getValue());
            }
        }
        Set<String> declared = new HashSet<>();
        sections.forEach(s -> declared.add(s.names().owner()));
        baseChains(b, table, owners, declared, fresh);
        return b.toString();
    }

    /**
     * Renders one batch on top of an owner's installed state: element deletions, then additions. A deletion
     * of an element that is not there makes the kernel refuse the whole batch.
     *
     * @param table our table
     * @param names the owner's names
     * @param delta the change
     * @return the script, empty if the delta is empty
     */
    public static String change(String table, OwnerNames names, Delta delta) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, List<String>> set : keyLists(names, delta.removeForwards(), delta.removeBindings())
                .entrySet()) {
            addElements(b, "delete", table, set.getKey(), set.getValue());
        }
        for (Map.Entry<String, List<String>> set : elementLists(names, delta.addForwards(), delta.addBindings())
                .entrySet()) {
            addElements(b, "add", table, set.getKey(), set.getValue());
        }
        return b.toString();
    }

    /**
     * Renders the removal of one owner: the base chains are rewritten without it, then its chains, maps and
     * sets are deleted (each declared first, so release also cleans up what an earlier run left). When no
     * owner remains, the whole table goes.
     *
     * @param table     our table
     * @param names     the owner to remove
     * @param remaining the owners that stay
     * @return the script
     */
    public static String release(String table, OwnerNames names, Collection<String> remaining) {
        Set<String> others = new TreeSet<>(remaining);
        others.remove(names.owner());
        if (others.isEmpty()) {
            return deleteTable(table);
        }
        StringBuilder b = new StringBuilder();
        line(b, "add table ip " + table);
        baseChains(b, table, others, Set.of(), false);
        for (String chain : names.chains()) {
            line(b, "add chain ip " + table + " " + chain);
            line(b, "flush chain ip " + table + " " + chain);
        }
        for (String chain : names.chains()) {
            line(b, "delete chain ip " + table + " " + chain);
        }
        for (Container c : containers(names)) {
            line(b, "add " + keyword(c) + " ip " + table + " " + c.name() + " { " + c.type() + " }");
            line(b, "delete " + keyword(c) + " ip " + table + " " + c.name());
        }
        return b.toString();
    }

    /**
     * @param table our table
     * @return the script deleting it whether it exists or not
     */
    public static String deleteTable(String table) {
        return "add table ip " + table + "\ndelete table ip " + table + "\n";
    }

    /**
     * Base chains, flushed and refilled with one jump per owner. The chains of owners not written in this
     * transaction are declared (a no-op if they exist) so the jumps always resolve.
     */
    private static void baseChains(StringBuilder b, String table, Collection<String> owners, Set<String> declared,
            boolean fresh) {
        List<OwnerNames> all = new ArrayList<>();
        for (String o : new TreeSet<>(owners)) {
            all.add(OwnerNames.of(o));
        }
        for (OwnerNames n : all) {
            if (!declared.contains(n.owner())) {
                for (String chain : n.chains()) {
                    line(b, "add chain ip " + table + " " + chain);
                }
            }
        }
        // One below the standard nat priorities: at equal priority the chain registered last runs first, so an
        // operator's masquerade chain re-created by a firewall reload would take our flows (a nat chain that sets
        // up a translation ends the hook's nat evaluation for the connection).
        line(b, "add chain ip " + table + " " + PREROUTING
                + " { type nat hook prerouting priority dstnat - 1; policy accept; }");
        line(b, "add chain ip " + table + " " + POSTROUTING
                + " { type nat hook postrouting priority srcnat - 1; policy accept; }");
        // Filter priority: an accept here does not override another table's drop (nftables evaluates every
        // base chain of a hook), but it does end our own evaluation for DNATed flows of our mappings.
        line(b, "add chain ip " + table + " " + FORWARD
                + " { type filter hook forward priority filter; policy accept; }");
        // After every forward-hook decision and before source NAT: see the class comment.
        line(b, "add chain ip " + table + " " + FIRSTPACKET
                + " { type filter hook postrouting priority mangle; policy accept; }");
        if (!fresh) {
            line(b, "flush chain ip " + table + " " + PREROUTING);
            line(b, "flush chain ip " + table + " " + POSTROUTING);
            line(b, "flush chain ip " + table + " " + FORWARD);
            line(b, "flush chain ip " + table + " " + FIRSTPACKET);
        }
        for (OwnerNames n : all) {
            line(b, "add rule ip " + table + " " + PREROUTING + " jump " + n.pre());
            line(b, "add rule ip " + table + " " + POSTROUTING + " jump " + n.post());
            line(b, "add rule ip " + table + " " + FORWARD + " jump " + n.fwd());
            line(b, "add rule ip " + table + " " + FIRSTPACKET + " jump " + n.queue());
        }
    }

    /**
     * The rules of an owner without queue rules; see {@link #rules(OwnerNames, Topology, Collection)}.
     *
     * @param n        the owner's names
     * @param topology the owner's topology
     * @return chain name to rule texts, in chain order pre, post, fwd, queue
     */
    public static Map<String, List<String>> rules(OwnerNames n, Topology topology) {
        return rules(n, topology, List.of());
    }

    /**
     * The rules of an owner's chains, in order (see the class comment).
     *
     * @param n          the owner's names
     * @param topology   the owner's topology
     * @param queueRules the owner's queue rules
     * @return chain name to rule texts, in chain order pre, post, fwd, queue
     */
    public static Map<String, List<String>> rules(OwnerNames n, Topology topology,
            Collection<QueueRule> queueRules) {
        String x = quote(topology.externalInterface());
        Map<String, List<String>> rules = new LinkedHashMap<>();
        List<String> pre = new ArrayList<>();
        List<String> post = new ArrayList<>();
        List<String> fwd = new ArrayList<>();
        String lans = lanSet(topology);
        boolean hairpin = topology.externalAddress().isPresent() && !lans.isEmpty();
        // Bindings first: the whole external address M belongs to its host.
        pre.add("iifname " + x + " dnat ip to ip daddr map @" + n.bindIn());
        // Only from the external interface: LAN traffic to the same port on outside hosts is left alone.
        pre.add("iifname " + x + " dnat ip to meta l4proto . th dport map @" + n.dnat());
        if (hairpin) {
            // N28 hairpin: LAN hosts reach the mapping through the external address.
            pre.add("ip saddr " + lans + " ip daddr " + host(topology.externalAddress().get())
                    + " dnat ip to meta l4proto . th dport map @" + n.dnat());
        }
        post.add("oifname " + x + " snat ip to ip saddr map @" + n.bindOut());
        if (hairpin) {
            // N28: hairpinned flows are masqueraded so the internal host answers through the gateway.
            post.add("ip saddr " + lans + " ct status dnat ip daddr . meta l4proto . th dport @" + n.targets()
                    + " masquerade");
        }
        // N27 / RFC 6886 §3.3: mappings are bidirectional, outbound flows from I:P leave with port E.
        post.add("oifname " + x + " meta l4proto { tcp, udp } masquerade to : ip saddr . meta l4proto . th sport map @"
                + n.sport());
        fwd.add("ct status dnat ip daddr @" + n.bindHosts() + " accept");
        fwd.add("ct status dnat ip daddr . meta l4proto . th dport @" + n.targets() + " accept");
        List<QueueRule> ordered = new ArrayList<>(queueRules);
        ordered.sort(Order.QUEUE_RULES);
        List<String> queue = new ArrayList<>();
        for (QueueRule q : ordered) {
            queue.add(queueRule(n, x, q));
        }
        rules.put(n.pre(), pre);
        rules.put(n.post(), post);
        rules.put(n.fwd(), fwd);
        rules.put(n.queue(), queue);
        return rules;
    }

    /** New flows only, leaving through X, from S, not bound: cheapest test first. */
    private static String queueRule(OwnerNames n, String quotedInterface, QueueRule q) {
        String source = q.prefixLength() == 0 ? "" : "ip saddr " + q.cidr().replace("/32", "") + " ";
        return "ct state new oifname " + quotedInterface + " " + source + "ip saddr != @" + n.bindHosts()
                + " queue num " + q.queueNumber();
    }

    /**
     * Every element an owner's state needs, in the form {@link NftRuleset} reads them back.
     *
     * @param n     the owner's names
     * @param state the state
     * @return set or map name to its elements (all six names present)
     */
    public static Map<String, Set<String>> elements(OwnerNames n, FirewallState state) {
        Map<String, Set<String>> out = new HashMap<>();
        elementLists(n, state.forwards(), state.bindings()).forEach((k, v) -> out.put(k, Set.copyOf(v)));
        return out;
    }

    /**
     * The {@link Fingerprint} of every map and set an owner's state needs; compares with
     * {@link NftRuleset#parseFingerprints}.
     *
     * @param n     the owner's names
     * @param state the state
     * @return set or map name to the fingerprint of its elements (all names present)
     */
    public static Map<String, Fingerprint> fingerprints(OwnerNames n, FirewallState state) {
        Map<String, Fingerprint> out = new HashMap<>();
        elementLists(n, state.forwards(), state.bindings()).forEach((k, v) -> out.put(k, Fingerprint.of(v)));
        return out;
    }

    private static Map<String, List<String>> elementLists(OwnerNames n, Collection<PortForward> fs,
            Collection<HostBinding> bs) {
        List<PortForward> forwards = new ArrayList<>(fs);
        forwards.sort(Order.FORWARDS);
        List<HostBinding> bindings = new ArrayList<>(bs);
        bindings.sort(Order.BINDINGS);
        Map<String, List<String>> out = new LinkedHashMap<>();
        List<String> dnat = new ArrayList<>();
        List<String> sport = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (PortForward f : forwards) {
            dnat.add(dnatKey(f) + " : " + host(f.internalAddress()) + " . " + f.internalPort());
            sport.add(target(f) + " : " + f.externalPort());
            targets.add(target(f));
        }
        List<String> in = new ArrayList<>();
        List<String> outb = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        for (HostBinding h : bindings) {
            in.add(host(h.externalAddress()) + " : " + host(h.internalAddress()));
            outb.add(host(h.internalAddress()) + " : " + host(h.externalAddress()));
            hosts.add(host(h.internalAddress()));
        }
        out.put(n.dnat(), dnat);
        out.put(n.sport(), sport);
        out.put(n.targets(), targets);
        out.put(n.bindIn(), in);
        out.put(n.bindOut(), outb);
        out.put(n.bindHosts(), hosts);
        return out;
    }

    /** The keys to delete: maps are deleted by key, sets by element. */
    private static Map<String, List<String>> keyLists(OwnerNames n, Collection<PortForward> fs,
            Collection<HostBinding> bs) {
        List<PortForward> forwards = new ArrayList<>(fs);
        forwards.sort(Order.FORWARDS);
        List<HostBinding> bindings = new ArrayList<>(bs);
        bindings.sort(Order.BINDINGS);
        Map<String, List<String>> out = new LinkedHashMap<>();
        out.put(n.dnat(), forwards.stream().map(NftScript::dnatKey).toList());
        out.put(n.sport(), forwards.stream().map(NftScript::target).toList());
        out.put(n.targets(), forwards.stream().map(NftScript::target).toList());
        out.put(n.bindIn(), bindings.stream().map(h -> host(h.externalAddress())).toList());
        out.put(n.bindOut(), bindings.stream().map(h -> host(h.internalAddress())).toList());
        out.put(n.bindHosts(), bindings.stream().map(h -> host(h.internalAddress())).toList());
        return out;
    }

    private static String dnatKey(PortForward f) {
        return f.protocol().keyword() + " . " + f.externalPort();
    }

    static String target(PortForward f) {
        return host(f.internalAddress()) + " . " + f.protocol().keyword() + " . " + f.internalPort();
    }

    /**
     * Checks what the kernel would refuse or what would make elements ambiguous: the interface name, two
     * forwards on one external port, two forwards from one internal port (the N27 source-port map needs one
     * answer), two bindings sharing an address.
     *
     * @param state a desired state
     * @throws IllegalArgumentException naming the conflict
     */
    public static void requireValid(FirewallState state) {
        String ifname = state.topology().externalInterface();
        if (!INTERFACE.matcher(ifname).matches()) {
            throw new IllegalArgumentException(
                    "external interface must be 1 to 15 characters of [A-Za-z0-9_.@-] (a trailing + as wildcard), was '"
                            + ifname + "'");
        }
        Set<String> external = new java.util.HashSet<>();
        Set<String> internal = new java.util.HashSet<>();
        for (PortForward f : state.forwards()) {
            if (!external.add(dnatKey(f))) {
                throw new IllegalArgumentException("two forwards use external port " + f.protocol().keyword() + " "
                        + f.externalPort());
            }
            if (!internal.add(target(f))) {
                throw new IllegalArgumentException("two forwards use internal port " + target(f));
            }
        }
        Set<Inet4Address> in = new java.util.HashSet<>();
        Set<Inet4Address> ext = new java.util.HashSet<>();
        for (HostBinding h : state.bindings()) {
            if (!in.add(h.internalAddress()) || !ext.add(h.externalAddress())) {
                throw new IllegalArgumentException("two host bindings share an address: " + h);
            }
        }
    }

    // --- text

    private static String keyword(Container c) {
        return c.kind() == Kind.MAP ? "map" : "set";
    }

    private static void addElements(StringBuilder b, String verb, String table, String set, List<String> elements) {
        for (int from = 0; from < elements.size(); from += CHUNK) {
            List<String> chunk = elements.subList(from, Math.min(elements.size(), from + CHUNK));
            b.append(verb).append(" element ip ").append(table).append(' ').append(set).append(" { ")
                    .append(String.join(", ", chunk)).append(" }\n");
        }
    }

    private static void line(StringBuilder b, String text) {
        b.append(text).append('\n');
    }

    /** nft's interface wildcard is {@code *}; iptables' is {@code +}. */
    static String quote(String ifname) {
        String name = ifname.endsWith("+") ? ifname.substring(0, ifname.length() - 1) + "*" : ifname;
        return '"' + name + '"';
    }

    /**
     * The LAN prefixes as an anonymous set, without prefixes inside other ones (nft refuses overlapping
     * intervals).
     */
    static String lanSet(Topology topology) {
        List<LanNetwork> lans = new ArrayList<>(topology.lanNetworks());
        lans.sort(java.util.Comparator.comparingInt(LanNetwork::prefixLength));
        List<LanNetwork> kept = new ArrayList<>();
        for (LanNetwork l : lans) {
            boolean inside = false;
            for (LanNetwork k : kept) {
                inside |= k.contains(l.address());
            }
            if (!inside) {
                kept.add(l);
            }
        }
        Set<String> cidrs = new LinkedHashSet<>();
        for (LanNetwork l : kept) {
            cidrs.add(l.cidr());
        }
        return cidrs.isEmpty() ? "" : "{ " + String.join(", ", cidrs) + " }";
    }

    static String host(Inet4Address a) {
        return a.getHostAddress();
    }
}
