// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import natpmp.api.FirewallState;
import natpmp.api.HostBinding;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.api.QueueRule;
import natpmp.api.Topology;

/**
 * Turns an owner's chains, as {@code iptables-save} printed them, back into forwards and bindings, and checks
 * cheaply whether the chains are still complete.
 */
public final class ReadBack {
    private static final String IPV4 = "(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})";
    /** The inbound DNAT rule identifies a forward; see {@link IptablesScript}. */
    private static final Pattern FORWARD = Pattern.compile(
            "-i (\\S+) -p (udp|tcp) -m \\2 --dport (\\d{1,5}) -j DNAT --to-destination " + IPV4 + ":(\\d{1,5})");
    /** The inbound DNAT rule of a host binding. */
    private static final Pattern BINDING = Pattern.compile(
            "-d " + IPV4 + "/32 -i (\\S+) -j DNAT --to-destination " + IPV4);
    /** The NFQUEUE rule of a queue rule; no source means 0.0.0.0/0. */
    private static final Pattern QUEUE = Pattern.compile(
            "(?:-s " + IPV4 + "/(\\d{1,2}) )?-j NFQUEUE --queue-num (\\d{1,5})");
    /** The interface guard of the queue chain. */
    private static final Pattern QUEUE_INTERFACE = Pattern.compile("! -o (\\S+) -j RETURN");

    private ReadBack() {
    }

    /**
     * Reads back what is installed for an owner. A forward or binding counts as installed only if every one of
     * its rules (inbound, hairpin, bidirectional, forward accept; the queue chain's RETURN while the owner has
     * queue rules) is in the kernel; a queue rule only with the guards of its chain.
     *
     * @param saved    the parsed nat and filter tables
     * @param chains   the owner's chains
     * @param topology the owner's topology, or empty if unknown (then the interface is taken from the rules)
     * @return the installed state
     */
    public static FirewallState installed(SavedRules saved, OwnerChains chains, Optional<Topology> topology) {
        Map<String, Integer> available = new HashMap<>();
        for (String c : saved.withShards(Rule.NAT, chains.pre())) {
            count(available, saved, Rule.NAT, c);
        }
        for (String c : saved.withShards(Rule.NAT, chains.post())) {
            count(available, saved, Rule.NAT, c);
        }
        for (String c : saved.withShards(Rule.FILTER, chains.fwd())) {
            count(available, saved, Rule.FILTER, c);
        }
        count(available, saved, Rule.MANGLE, chains.que());

        Topology t = topology.orElseGet(() -> interfaceOf(saved, chains)
                .map(x -> new Topology(x, Optional.empty(), List.of())).orElse(null));
        Set<QueueRule> queueRules = t == null ? Set.of() : queueRules(saved, chains, t, available);
        boolean queued = !queueRules.isEmpty();
        Set<PortForward> forwards = new HashSet<>();
        Set<HostBinding> bindings = new HashSet<>();
        for (String spec : preRules(saved, chains)) {
            Matcher f = FORWARD.matcher(spec);
            Matcher b = BINDING.matcher(spec);
            if (f.matches()) {
                Optional<PortForward> forward = forward(f);
                if (forward.isPresent() && take(available, IptablesScript.rules(chains, t, forward.get()))) {
                    forwards.add(forward.get());
                }
            } else if (b.matches()) {
                Optional<Inet4Address> ext = ipv4(b.group(1));
                Optional<Inet4Address> in = ipv4(b.group(3));
                if (ext.isPresent() && in.isPresent()) {
                    HostBinding binding = new HostBinding(in.get(), ext.get());
                    if (take(available, IptablesScript.rules(chains, t, binding, queued))) {
                        bindings.add(binding);
                    }
                }
            }
        }
        Topology result = t != null ? t : new Topology("", Optional.empty(), List.of());
        return new FirewallState(result, forwards, bindings, queueRules);
    }

    /** The external interface as the owner's rules name it: from its inbound DNAT rules or its queue guard. */
    private static Optional<String> interfaceOf(SavedRules saved, OwnerChains chains) {
        for (String spec : preRules(saved, chains)) {
            Matcher f = FORWARD.matcher(spec);
            if (f.matches()) {
                return Optional.of(f.group(1));
            }
            Matcher b = BINDING.matcher(spec);
            if (b.matches()) {
                return Optional.of(b.group(2));
            }
        }
        for (String spec : saved.rules(Rule.MANGLE, chains.que())) {
            Matcher g = QUEUE_INTERFACE.matcher(spec);
            if (g.matches()) {
                return Optional.of(g.group(1));
            }
        }
        return Optional.empty();
    }

    /** The rules of the owner's pre chain and of its shards. */
    private static List<String> preRules(SavedRules saved, OwnerChains chains) {
        List<String> specs = new java.util.ArrayList<>();
        for (String c : saved.withShards(Rule.NAT, chains.pre())) {
            specs.addAll(saved.rules(Rule.NAT, c));
        }
        return specs;
    }

    /** The queue rules whose NFQUEUE rule is there, provided the chain's guards are there too. */
    private static Set<QueueRule> queueRules(SavedRules saved, OwnerChains chains, Topology t,
            Map<String, Integer> available) {
        Set<QueueRule> found = new HashSet<>();
        for (String spec : saved.rules(Rule.MANGLE, chains.que())) {
            Matcher q = QUEUE.matcher(spec);
            if (q.matches()) {
                queueRule(q).ifPresent(found::add);
            }
        }
        Set<QueueRule> result = new HashSet<>();
        for (QueueRule rule : found) {
            // the guards are shared by every queue rule: check them without using them up
            List<Rule> needed = IptablesScript.rules(chains, t, rule);
            if (present(available, needed)) {
                result.add(rule);
            }
        }
        for (QueueRule rule : result) {
            List<Rule> needed = IptablesScript.rules(chains, t, rule);
            take(available, needed.subList(needed.size() - 1, needed.size()));
        }
        return result;
    }

    private static Optional<QueueRule> queueRule(Matcher m) {
        Optional<Inet4Address> network = m.group(1) == null ? ipv4("0.0.0.0") : ipv4(m.group(1));
        int length = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        int number = Integer.parseInt(m.group(3));
        if (network.isEmpty() || length > 32 || number > QueueRule.MAX_QUEUE_NUMBER) {
            return Optional.empty();
        }
        try {
            return Optional.of(new QueueRule(network.get(), length, number));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // host bits set: not a rule we wrote
        }
    }

    /**
     * The watchdog's cheap check: chains exist, each is jumped to exactly once, and each (with its shards)
     * holds as many rules as the owner's state needs. (It does not compare rule texts; {@link #installed}
     * does.)
     *
     * @param saved    the parsed nat and filter tables
     * @param chains   the owner's chains
     * @param expected the rule counts of the owner's state
     * @return what is wrong, empty if nothing is
     */
    public static Optional<String> check(SavedRules saved, OwnerChains chains, RuleCounts expected) {
        StringBuilder problems = new StringBuilder();
        JumpCounts jumps = saved.jumps(chains);
        checkChain(problems, saved, Rule.NAT, chains.pre(), expected.pre(), "PREROUTING", jumps.pre());
        checkChain(problems, saved, Rule.NAT, chains.post(), expected.post(), "POSTROUTING", jumps.post());
        checkChain(problems, saved, Rule.FILTER, chains.fwd(), expected.fwd(), "FORWARD", jumps.fwd());
        checkChain(problems, saved, Rule.MANGLE, chains.que(), expected.que(), "POSTROUTING", jumps.que());
        return problems.length() == 0 ? Optional.empty() : Optional.of(problems.toString());
    }

    private static void checkChain(StringBuilder problems, SavedRules saved, String table, String chain,
            long expected, String builtin, int jumps) {
        String problem = null;
        long present = 0;
        for (String c : saved.withShards(table, chain)) {
            present += saved.rules(table, c).size();
        }
        if (!saved.hasChain(table, chain)) {
            problem = table + " chain " + chain + " is missing";
        } else if (present != expected) {
            boolean sharded = !table.equals(Rule.MANGLE); // the queue chain has no shards
            problem = table + " chain " + chain + (sharded ? " and its shards have " : " has ") + present + " of "
                    + expected + " rules";
        }
        if (problem == null && jumps != 1) {
            problem = table + " " + builtin + " jumps " + jumps + " times to " + chain;
        }
        if (problem != null) {
            problems.append(problems.length() == 0 ? "" : "; ").append(problem);
        }
    }

    private static void count(Map<String, Integer> available, SavedRules saved, String table, String chain) {
        for (String spec : saved.rules(table, chain)) {
            available.merge(key(table, chain, spec), 1, Integer::sum);
        }
    }

    private static boolean take(Map<String, Integer> available, List<Rule> rules) {
        if (!present(available, rules)) {
            return false;
        }
        for (Rule r : rules) {
            available.merge(key(r.table(), r.chain(), r.spec()), -1, Integer::sum);
        }
        return true;
    }

    private static boolean present(Map<String, Integer> available, List<Rule> rules) {
        Map<String, Integer> needed = new HashMap<>();
        for (Rule r : rules) {
            needed.merge(key(r.table(), r.chain(), r.spec()), 1, Integer::sum);
        }
        for (Map.Entry<String, Integer> e : needed.entrySet()) {
            if (available.getOrDefault(e.getKey(), 0) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static String key(String table, String chain, String spec) {
        return table + ' ' + chain + ' ' + spec;
    }

    private static Optional<PortForward> forward(Matcher m) {
        Optional<Inet4Address> address = ipv4(m.group(4));
        int ext = Integer.parseInt(m.group(3));
        int in = Integer.parseInt(m.group(5));
        if (address.isEmpty() || !port(ext) || !port(in)) {
            return Optional.empty();
        }
        Protocol p = m.group(2).equals("udp") ? Protocol.UDP : Protocol.TCP;
        return Optional.of(new PortForward(p, ext, address.get(), in));
    }

    private static boolean port(int p) {
        return p >= 1 && p <= 65535;
    }

    /** Parses a dotted quad without any name lookup. */
    static Optional<Inet4Address> ipv4(String dotted) {
        String[] parts = dotted.split("\\.");
        if (parts.length != 4) {
            return Optional.empty();
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = Integer.parseInt(parts[i]);
            if (v > 255) {
                return Optional.empty();
            }
            bytes[i] = (byte) v;
        }
        try {
            return Optional.of((Inet4Address) InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return Optional.empty(); // cannot happen for four bytes
        }
    }
}
