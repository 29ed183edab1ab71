// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed output of {@code iptables-save} (one or more tables): per table, its chains in order and the
 * rule specs of each chain (the text after {@code -A <chain> }), as printed. Other people's rules are kept
 * verbatim and never interpreted.
 */
public final class SavedRules {
    private final Map<String, Map<String, List<String>>> tables;

    private SavedRules(Map<String, Map<String, List<String>>> tables) {
        this.tables = tables;
    }

    /**
     * @param outputs the outputs of {@code iptables-save}, e.g. one each for {@code -t nat},
     *                {@code -t filter} and {@code -t mangle}
     * @return the parsed rules
     * @throws IllegalArgumentException if a rule or chain line appears outside a table
     */
    public static SavedRules parse(String... outputs) {
        Map<String, Map<String, List<String>>> tables = new HashMap<>();
        for (String output : outputs) {
            Map<String, List<String>> table = null;
            int lineNo = 0;
            for (String line : output.split("\n")) {
                lineNo++;
                if (line.isEmpty() || line.startsWith("#") || line.equals("COMMIT")) {
                    continue;
                }
                if (line.startsWith("*")) {
                    table = tables.computeIfAbsent(line.substring(1).strip(), t -> new LinkedHashMap<>());
                } else if (line.startsWith(":")) {
                    requireTable(table, lineNo, line);
                    int end = line.indexOf(' ');
                    table.computeIfAbsent(end < 0 ? line.substring(1) : line.substring(1, end), c -> new ArrayList<>());
                } else if (line.startsWith("-A ")) {
                    requireTable(table, lineNo, line);
                    int end = line.indexOf(' ', 3);
                    String chain = end < 0 ? line.substring(3) : line.substring(3, end);
                    String spec = end < 0 ? "" : line.substring(end + 1);
                    table.computeIfAbsent(chain, c -> new ArrayList<>()).add(spec);
                }
            }
        }
        return new SavedRules(tables);
    }

    private static void requireTable(Map<String, List<String>> table, int lineNo, String line) {
        if (table == null) {
            throw new IllegalArgumentException("line " + lineNo + " is outside a table: " + line);
        }
    }

    /**
     * @param table a table
     * @param chain a chain
     * @return whether the chain exists
     */
    public boolean hasChain(String table, String chain) {
        return tables.getOrDefault(table, Map.of()).containsKey(chain);
    }

    /**
     * @param table a table
     * @param chain a chain
     * @return the rule specs of the chain in order; empty if it does not exist
     */
    public List<String> rules(String table, String chain) {
        return tables.getOrDefault(table, Map.of()).getOrDefault(chain, List.of());
    }

    /**
     * @param table a table
     * @return the names of its chains, in the order printed
     */
    public List<String> chains(String table) {
        return List.copyOf(tables.getOrDefault(table, Map.of()).keySet());
    }

    /**
     * @param table a table
     * @param chain one of an owner's chains
     * @return that chain (if it exists) and its shard chains ({@link OwnerChains#shard}) that exist
     */
    public List<String> withShards(String table, String chain) {
        List<String> result = new ArrayList<>();
        String prefix = chain + "-";
        for (String c : tables.getOrDefault(table, Map.of()).keySet()) {
            if (c.equals(chain) || c.startsWith(prefix) && isNumber(c.substring(prefix.length()))) {
                result.add(c);
            }
        }
        return result;
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty() || s.length() > 3) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * @param chains an owner's chains
     * @return how many plain jumps to them the built-in chains hold
     */
    public JumpCounts jumps(OwnerChains chains) {
        return new JumpCounts(count(Rule.NAT, "PREROUTING", "-j " + chains.pre()),
                count(Rule.NAT, "POSTROUTING", "-j " + chains.post()),
                count(Rule.FILTER, "FORWARD", "-j " + chains.fwd()),
                count(Rule.MANGLE, "POSTROUTING", "-j " + chains.que()));
    }

    private int count(String table, String chain, String spec) {
        int n = 0;
        for (String s : rules(table, chain)) {
            if (s.equals(spec)) {
                n++;
            }
        }
        return n;
    }
}
