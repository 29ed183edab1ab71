// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.core;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

/**
 * What {@code nft -j list table ip <table>} (or {@code nft -j list chains ip}) printed about our table: its
 * chains (with hook for base chains), a summary of each rule, and the elements of every map and set in the
 * text form {@link NftScript} writes them. Anything outside our table is ignored.
 */
public final class NftRuleset {
    /**
     * A chain.
     *
     * @param type the base chain type ({@code nat}, {@code filter}), null for a regular chain
     * @param hook the hook, null for a regular chain
     */
    public record Chain(String type, String hook) {
    }

    /**
     * The part of a rule the checks need.
     *
     * @param jump     the target of a rule that is only a jump, else null
     * @param iifname  the interface of a leading {@code iifname} match, else null
     * @param queueNum the queue number of a {@code queue} statement, else -1
     * @param saddr    the network of an {@code ip saddr == ...} match in CIDR notation ({@code /32} for an
     *                 address), else null
     * @param notIn    the set of an {@code ip saddr != @set} match, without the {@code @}, else null
     */
    public record Rule(String jump, String iifname, int queueNum, String saddr, String notIn) {
        /**
         * A rule without queue parts.
         *
         * @param jump    the target of a rule that is only a jump, else null
         * @param iifname the interface of a leading {@code iifname} match, else null
         */
        public Rule(String jump, String iifname) {
            this(jump, iifname, -1, null, null);
        }
    }

    private final boolean table;
    private final Map<String, Chain> chains;
    private final Map<String, List<Rule>> rules;
    private final Map<String, Set<String>> elements;
    /** Set and map contents as fingerprints; null when {@link #elements} holds them in full. */
    private final Map<String, Fingerprint> fingerprints;

    private NftRuleset(boolean table, Map<String, Chain> chains, Map<String, List<Rule>> rules,
            Map<String, Set<String>> elements, Map<String, Fingerprint> fingerprints) {
        this.table = table;
        this.chains = chains;
        this.rules = rules;
        this.elements = elements;
        this.fingerprints = fingerprints;
    }

    /** @return the view of a table that does not exist */
    public static NftRuleset absent() {
        return new NftRuleset(false, Map.of(), Map.of(), Map.of(), null);
    }

    /**
     * Like {@link #parse}, but keeps only a {@link Fingerprint} of each map and set: enough for {@link #check},
     * in memory that does not grow with the number of elements (the listing itself aside). For the watchdog.
     *
     * @param json      the output of {@code nft -j list ...}
     * @param tableName our table
     * @return what it says about our table, without the elements themselves
     * @throws IllegalArgumentException if the text is not nft's JSON
     */
    public static NftRuleset parseFingerprints(CharSequence json, String tableName) {
        Map<String, Fingerprint> prints = new HashMap<>();
        Json.ItemSink sink = new Json.ItemSink() {
            @Override
            public boolean streams(String key, Map<String, Object> body) {
                return key.equals("elem") && "ip".equals(body.get("family")) && tableName.equals(body.get("table"))
                        && body.get("name") instanceof String;
            }

            @Override
            public void item(Map<String, Object> body, Object item) {
                List<String> keyTypes = types(body.get("type"));
                List<String> dataTypes = body.get("map") instanceof String data ? List.of(data.split(" \\. ")) : null;
                prints.merge((String) body.get("name"), Fingerprint.EMPTY.plus(element(item, keyTypes, dataTypes)),
                        (a, b) -> new Fingerprint(a.count() + b.count(), a.sum() + b.sum()));
            }
        };
        NftRuleset full = parse(Json.parse(json, sink), tableName);
        for (String set : full.elements.keySet()) {
            prints.putIfAbsent(set, Fingerprint.EMPTY); // a set with no elements
        }
        return new NftRuleset(full.table, full.chains, full.rules, Map.of(), Map.copyOf(prints));
    }

    /**
     * @param json      the output of {@code nft -j list ...}
     * @param tableName our table
     * @return what it says about our table
     * @throws IllegalArgumentException if the text is not nft's JSON
     */
    public static NftRuleset parse(CharSequence json, String tableName) {
        return parse(Json.parse(json), tableName);
    }

    private static NftRuleset parse(Object root, String tableName) {
        List<?> items = list(map(root, "top level").get("nftables"), "nftables");
        boolean table = false;
        Map<String, Chain> chains = new HashMap<>();
        Map<String, List<Rule>> rules = new HashMap<>();
        Map<String, Set<String>> elements = new HashMap<>();
        for (Object item : items) {
            Map<?, ?> entry = map(item, "entry");
            for (Map.Entry<?, ?> e : entry.entrySet()) {
                if (!(e.getValue() instanceof Map<?, ?> body) || !"ip".equals(body.get("family"))) {
                    continue;
                }
                String kind = String.valueOf(e.getKey());
                if (kind.equals("table")) {
                    table |= tableName.equals(body.get("name"));
                    continue;
                }
                if (!tableName.equals(body.get("table"))) {
                    continue;
                }
                switch (kind) {
                    case "chain" -> chains.put(str(body.get("name")),
                            new Chain((String) body.get("type"), (String) body.get("hook")));
                    case "rule" -> rules.computeIfAbsent(str(body.get("chain")), c -> new ArrayList<>())
                            .add(rule(body));
                    case "set", "map" -> elements.put(str(body.get("name")), elements(body));
                    default -> {
                        // counters, quotas, flowtables: not ours to read
                    }
                }
            }
        }
        // 'list chains' prints no table object; a chain of our table proves it exists.
        return new NftRuleset(table || !chains.isEmpty(), chains, rules, elements, null);
    }

    /** @return whether our table exists */
    public boolean hasTable() {
        return table;
    }

    /**
     * @param name a set or map
     * @return its elements; empty if it does not exist
     */
    public Set<String> elements(String name) {
        return elements.getOrDefault(name, Set.of());
    }

    /**
     * @param name a chain
     * @return its rules; empty if it does not exist or was listed without rules
     */
    public List<Rule> rules(String name) {
        return rules.getOrDefault(name, List.of());
    }

    /**
     * The watchdog's cheap check, possible on {@code nft -j list chains ip}: the table, the base chains and
     * every owner's chains exist.
     *
     * @param owners the owners that must be installed
     * @return what is wrong, empty if nothing is
     */
    public Optional<String> checkChains(Collection<OwnerNames> owners) {
        List<String> problems = new ArrayList<>();
        if (!table) {
            return Optional.of("table is missing");
        }
        base(problems, NftScript.PREROUTING, "nat", "prerouting");
        base(problems, NftScript.POSTROUTING, "nat", "postrouting");
        base(problems, NftScript.FORWARD, "filter", "forward");
        base(problems, NftScript.FIRSTPACKET, "filter", "postrouting");
        for (OwnerNames n : owners) {
            for (String c : n.chains()) {
                if (!chains.containsKey(c)) {
                    problems.add("chain " + c + " is missing");
                }
            }
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private void base(List<String> problems, String name, String type, String hook) {
        Chain c = chains.get(name);
        if (c == null) {
            problems.add("base chain " + name + " is missing");
        } else if (!type.equals(c.type()) || !hook.equals(c.hook())) {
            problems.add("chain " + name + " is not a " + type + " chain at hook " + hook);
        }
    }

    /**
     * The full check of one owner on a complete listing: chains, one jump to each from its base chain, the
     * rule count of each chain, and every element of every map and set.
     *
     * @param n        the owner's names
     * @param expected the owner's state
     * @return what is wrong, empty if nothing is
     */
    public Optional<String> check(OwnerNames n, FirewallState expected) {
        Optional<String> structure = checkChains(List.of(n));
        if (structure.isPresent()) {
            return structure;
        }
        List<String> problems = new ArrayList<>();
        jumps(problems, NftScript.PREROUTING, n.pre());
        jumps(problems, NftScript.POSTROUTING, n.post());
        jumps(problems, NftScript.FORWARD, n.fwd());
        jumps(problems, NftScript.FIRSTPACKET, n.queue());
        NftScript.rules(n, expected.topology(), expected.queueRules()).forEach((chain, want) -> {
            int have = rules(chain).size();
            if (have != want.size()) {
                problems.add("chain " + chain + " has " + have + " of " + want.size() + " rules");
            }
        });
        if (fingerprints != null) {
            NftScript.fingerprints(n, expected).forEach((set, want) -> {
                Fingerprint have = fingerprints.get(set);
                if (have == null) {
                    problems.add("map or set " + set + " is missing");
                } else if (!have.equals(want)) {
                    problems.add(set + " has " + have.count() + " elements, not the " + want.count() + " expected"
                            + (have.count() == want.count() ? " ones" : ""));
                }
            });
            return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
        }
        NftScript.elements(n, expected).forEach((set, want) -> {
            if (!elements.containsKey(set)) {
                problems.add("map or set " + set + " is missing");
                return;
            }
            Set<String> have = elements(set);
            if (!have.equals(want)) {
                long missing = want.stream().filter(w -> !have.contains(w)).count();
                long extra = have.stream().filter(h -> !want.contains(h)).count();
                problems.add(set + " misses " + missing + " and has " + extra + " unexpected elements");
            }
        });
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private void jumps(List<String> problems, String base, String chain) {
        long n = rules(base).stream().filter(r -> chain.equals(r.jump())).count();
        if (n != 1) {
            problems.add(base + " jumps " + n + " times to " + chain);
        }
    }

    /**
     * Reads back an owner's forwards, bindings and queue rules. An entry counts only if the owner's chains are in
     * place (jumped to, with their rules) and every element it needs is there; a queue rule only if it skips the
     * owner's bound sources.
     *
     * @param n        the owner's names
     * @param topology the topology of the owner's last reconcile; if empty, the interface is read from the rules
     * @return the installed state
     */
    public FirewallState installed(OwnerNames n, Optional<Topology> topology) {
        Topology t = topology.orElseGet(() -> new Topology(interfaceOf(n).orElse(""), Optional.empty(), List.of()));
        boolean wired = checkChains(List.of(n)).isEmpty() && jumpsOnce(n) && rules(n.pre()).size() >= 2
                && rules(n.post()).size() >= 2 && rules(n.fwd()).size() == 2;
        if (!wired) {
            return FirewallState.empty(t);
        }
        Set<String> sport = elements(n.sport());
        Set<String> targets = elements(n.targets());
        Set<PortForward> forwards = new HashSet<>();
        for (String e : elements(n.dnat())) {
            // proto . E : I . P
            String[] p = e.split(" \\. | : ");
            if (p.length != 4) {
                continue;
            }
            Optional<Protocol> proto = protocol(p[0]);
            Optional<Inet4Address> in = ipv4(p[2]);
            Optional<Integer> ext = port(p[1]);
            Optional<Integer> inPort = port(p[3]);
            if (proto.isEmpty() || in.isEmpty() || ext.isEmpty() || inPort.isEmpty()) {
                continue;
            }
            String target = p[2] + " . " + p[0] + " . " + p[3];
            if (targets.contains(target) && sport.contains(target + " : " + p[1])) {
                forwards.add(new PortForward(proto.get(), ext.get(), in.get(), inPort.get()));
            }
        }
        Set<String> out = elements(n.bindOut());
        Set<String> hosts = elements(n.bindHosts());
        Set<HostBinding> bindings = new HashSet<>();
        for (String e : elements(n.bindIn())) {
            String[] p = e.split(" : ");
            if (p.length != 2) {
                continue;
            }
            Optional<Inet4Address> ext = ipv4(p[0]);
            Optional<Inet4Address> in = ipv4(p[1]);
            if (ext.isPresent() && in.isPresent() && out.contains(p[1] + " : " + p[0]) && hosts.contains(p[1])) {
                bindings.add(new HostBinding(in.get(), ext.get()));
            }
        }
        Set<QueueRule> queueRules = new HashSet<>();
        for (Rule r : rules(n.queue())) {
            if (r.queueNum() >= 0 && n.bindHosts().equals(r.notIn())) {
                queueRule(r.saddr() == null ? "0.0.0.0/0" : r.saddr(), r.queueNum()).ifPresent(queueRules::add);
            }
        }
        return new FirewallState(t, forwards, bindings, queueRules);
    }

    private static Optional<QueueRule> queueRule(String cidr, int number) {
        String[] p = cidr.split("/");
        Optional<Inet4Address> network = ipv4(p[0]);
        if (network.isEmpty() || p.length != 2 || number > QueueRule.MAX_QUEUE_NUMBER) {
            return Optional.empty();
        }
        try {
            return Optional.of(new QueueRule(network.get(), Integer.parseInt(p[1]), number));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not a rule we wrote
        }
    }

    private boolean jumpsOnce(OwnerNames n) {
        List<String> problems = new ArrayList<>();
        jumps(problems, NftScript.PREROUTING, n.pre());
        jumps(problems, NftScript.POSTROUTING, n.post());
        jumps(problems, NftScript.FORWARD, n.fwd());
        jumps(problems, NftScript.FIRSTPACKET, n.queue());
        return problems.isEmpty();
    }

    private Optional<String> interfaceOf(OwnerNames n) {
        for (Rule r : rules(n.pre())) {
            if (r.iifname() != null) {
                String name = r.iifname();
                return Optional.of(name.endsWith("*") ? name.substring(0, name.length() - 1) + "+" : name);
            }
        }
        return Optional.empty();
    }

    // --- JSON shapes

    private static Rule rule(Map<?, ?> body) {
        List<?> expr = body.get("expr") instanceof List<?> l ? l : List.of();
        String jump = null;
        if (expr.size() == 1 && expr.get(0) instanceof Map<?, ?> only && only.get("jump") instanceof Map<?, ?> j) {
            jump = (String) j.get("target");
        }
        String iifname = null;
        if (!expr.isEmpty() && expr.get(0) instanceof Map<?, ?> first && first.get("match") instanceof Map<?, ?> m
                && m.get("left") instanceof Map<?, ?> left && left.get("meta") instanceof Map<?, ?> meta
                && "iifname".equals(meta.get("key")) && m.get("right") instanceof String right) {
            iifname = right;
        }
        int queueNum = -1;
        String saddr = null;
        String notIn = null;
        for (Object e : expr) {
            if (!(e instanceof Map<?, ?> statement)) {
                continue;
            }
            if (statement.get("queue") instanceof Map<?, ?> q) {
                // "num" is a number; a missing one is queue 0 (nft's default)
                queueNum = q.get("num") instanceof Long num ? num.intValue() : q.containsKey("num") ? -1 : 0;
            } else if (statement.get("match") instanceof Map<?, ?> m && isSaddr(m.get("left"))) {
                Object right = m.get("right");
                if ("==".equals(m.get("op"))) {
                    saddr = cidr(right);
                } else if ("!=".equals(m.get("op")) && right instanceof String set && set.startsWith("@")) {
                    notIn = set.substring(1);
                }
            }
        }
        return new Rule(jump, iifname, queueNum, saddr, notIn);
    }

    private static boolean isSaddr(Object left) {
        return left instanceof Map<?, ?> l && l.get("payload") instanceof Map<?, ?> p && "ip".equals(p.get("protocol"))
                && "saddr".equals(p.get("field"));
    }

    /** {@code "10.0.0.7"} or {@code {"prefix": {"addr": "10.0.0.0", "len": 8}}} as CIDR; anything else null. */
    private static String cidr(Object right) {
        if (right instanceof String address && ipv4(address).isPresent()) {
            return address + "/32";
        }
        if (right instanceof Map<?, ?> r && r.get("prefix") instanceof Map<?, ?> p && p.get("addr") instanceof String a
                && p.get("len") instanceof Long len) {
            return a + "/" + len;
        }
        return null;
    }

    private static Set<String> elements(Map<?, ?> body) {
        List<String> keyTypes = types(body.get("type"));
        List<String> dataTypes = body.get("map") instanceof String data ? List.of(data.split(" \\. ")) : null;
        Set<String> out = new HashSet<>();
        if (!(body.get("elem") instanceof List<?> elems)) {
            return out;
        }
        for (Object elem : elems) {
            out.add(element(elem, keyTypes, dataTypes));
        }
        return out;
    }

    /** One element of a set ({@code dataTypes} null) or a map, in the text form {@link NftScript} writes. */
    private static String element(Object elem, List<String> keyTypes, List<String> dataTypes) {
        if (dataTypes != null && elem instanceof List<?> pair && pair.size() == 2) {
            return value(pair.get(0), keyTypes) + " : " + value(pair.get(1), dataTypes);
        }
        return value(elem, keyTypes);
    }

    private static List<String> types(Object type) {
        if (type instanceof String s) {
            return List.of(s);
        }
        List<String> out = new ArrayList<>();
        if (type instanceof List<?> l) {
            l.forEach(t -> out.add(String.valueOf(t)));
        }
        return out;
    }

    /** One key or value: a scalar, a concatenation, or nft's {@code elem} wrapper (timeouts, counters). */
    private static String value(Object v, List<String> types) {
        if (v instanceof Map<?, ?> m && m.get("elem") instanceof Map<?, ?> wrapped) {
            return value(wrapped.get("val"), types);
        }
        if (v instanceof Map<?, ?> m && m.get("concat") instanceof List<?> parts) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                out.add(scalar(parts.get(i), i < types.size() ? types.get(i) : ""));
            }
            return String.join(" . ", out);
        }
        return scalar(v, types.isEmpty() ? "" : types.get(0));
    }

    private static String scalar(Object v, String type) {
        if (type.equals("inet_proto") && v instanceof Long number) {
            // nft prints names where it knows them; numbers otherwise (RFC 790 assigned numbers)
            for (Protocol p : Protocol.values()) {
                if (p.ipProtocol() == number) {
                    return p.keyword();
                }
            }
        }
        return String.valueOf(v);
    }

    private static Map<?, ?> map(Object o, String what) {
        if (o instanceof Map<?, ?> m) {
            return m;
        }
        throw new IllegalArgumentException("not nft JSON: " + what + " is not an object");
    }

    private static List<?> list(Object o, String what) {
        if (o instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException("not nft JSON: " + what + " is not an array");
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    private static Optional<Protocol> protocol(String keyword) {
        for (Protocol p : Protocol.values()) {
            if (p.keyword().equals(keyword)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static Optional<Integer> port(String text) {
        try {
            int p = Integer.parseInt(text);
            return p >= 1 && p <= 65535 ? Optional.of(p) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Parses a dotted quad without any name lookup. */
    static Optional<Inet4Address> ipv4(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) {
            return Optional.empty();
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            try {
                int v = Integer.parseInt(parts[i]);
                if (v < 0 || v > 255) {
                    return Optional.empty();
                }
                bytes[i] = (byte) v;
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        try {
            return Optional.of((Inet4Address) InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
