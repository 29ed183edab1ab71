// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two firewall backends as the end-to-end tests see them from outside the daemon: how to select one, how to
 * read what it put into the gateway's kernel, how to damage it from outside, and how to recognise a rule it left
 * behind. iptables owns chains {@code NATPMP-NATPMP-PRE/POST/FWD}, their shards and the jumps to them; nftables owns table
 * {@code ip natpmp} (mappings as elements of map {@code dnat_natpmp}).
 */
public enum BackendKind {

    /** natpmp.iptables (service.ranking 100, the default choice). */
    IPTABLES("iptables", "natpmp.iptables") {
        @Override
        public List<String> ourRules(NamespaceLab lab) {
            return lab.gatewayRules().lines().filter(l -> l.startsWith("-A NATPMP") || l.contains("-j NATPMP"))
                    .toList();
        }

        @Override
        public List<String> strayRules(NamespaceLab lab) {
            return lab.gatewayRules().lines().filter(l -> l.contains("NATPMP-")).toList();
        }

        @Override
        public int installedForwards(NamespaceLab lab) {
            // one DNAT rule per forward matches the external interface (the hairpin one matches the address).
            // Only our chains are listed, one by one (the shards the parent jumps to): a whole iptables-save starts
            // over whenever the daemon commits a batch meanwhile, and under the swap test's load may never finish
            ExecResult parent = lab.exec(lab.gw(), Duration.ofSeconds(20), "iptables", "-t", "nat", "-S",
                    "NATPMP-NATPMP-PRE");
            if (!parent.ok()) {
                return 0;
            }
            int count = 0;
            for (String shard : parent.stdout().lines().filter(l -> l.startsWith("-A NATPMP-NATPMP-PRE -j "))
                    .map(l -> l.substring("-A NATPMP-NATPMP-PRE -j ".length()).strip()).toList()) {
                ExecResult chain = lab.exec(lab.gw(), Duration.ofSeconds(20), "iptables", "-t", "nat", "-S", shard);
                if (chain.ok()) {
                    count += (int) chain.stdout().lines()
                            .filter(l -> l.startsWith("-A " + shard + " ") && l.contains("-i wan0") && l.contains("DNAT"))
                            .count();
                }
            }
            return count;
        }

        @Override
        public void flushFromOutside(NamespaceLab lab) {
            // a "firewall reload": flush both tables, then the router's own rules come back (our chains do not)
            lab.execOk(lab.gw(), "iptables", "-w", "5", "-t", "nat", "-F");
            lab.execOk(lab.gw(), "iptables", "-w", "5", "-F");
            lab.installBaseFirewall();
        }

        @Override
        public void forgetEverything(NamespaceLab lab) {
            for (String[] cmd : new String[][] {{"-t", "nat", "-F"}, {"-t", "nat", "-X"}, {"-F"}, {"-X"}}) {
                List<String> argv = new java.util.ArrayList<>(List.of("iptables", "-w", "5"));
                argv.addAll(List.of(cmd));
                lab.execOk(lab.gw(), argv.toArray(String[]::new));
            }
            lab.installBaseFirewall();
        }

        @Override
        public void assertComplete(NamespaceLab lab) {
            assertThat(lab.gatewayRules()).contains("-A PREROUTING").containsPattern("-A FORWARD .*-j NATPMP-")
                    .containsPattern("-A PREROUTING .*-j NATPMP-").containsPattern("-A POSTROUTING .*-j NATPMP-");
        }

        @Override
        public List<String> stubbedBinaries() {
            return FirewallToolStub.IPTABLES;
        }

        @Override
        public void prepareLab(NamespaceLab lab) {
            // nothing: the base firewall's FORWARD DROP policy must be opened by the backend's own FWD chain
        }
    },

    /** natpmp.nftables (service.ranking 50). */
    NFTABLES("nftables", "natpmp.nftables") {
        @Override
        public List<String> ourRules(NamespaceLab lab) {
            ExecResult table = lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "list", "table", "ip", "natpmp");
            return table.ok() ? table.stdout().lines().toList() : List.of();
        }

        @Override
        public List<String> strayRules(NamespaceLab lab) {
            // not "nft list tables": nft 1.0.6 then loads every table's rules, and with 10,000 mappings in
            // iptables-nft's tables that takes longer than the test may wait
            ExecResult table = lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "list", "table", "ip", "natpmp");
            if (table.ok()) {
                return table.stdout().lines().limit(20).toList();
            }
            assertThat(table.stderr()).as(table::describe).contains("No such file or directory");
            return List.of();
        }

        @Override
        public int installedForwards(NamespaceLab lab) {
            ExecResult map = lab.exec(lab.gw(), Duration.ofSeconds(20), "nft", "list", "map", "ip", "natpmp",
                    "dnat_natpmp");
            if (!map.ok()) {
                return 0;
            }
            Matcher m = DNAT_ELEMENT.matcher(map.stdout());
            int count = 0;
            while (m.find()) {
                count++;
            }
            return count;
        }

        @Override
        public void flushFromOutside(NamespaceLab lab) {
            // the nftables "firewall reload": everything goes, iptables-nft's tables included; the router's own
            // rules come back, our table does not
            lab.execOk(lab.gw(), "nft", "flush", "ruleset");
            lab.installBaseFirewall();
        }

        @Override
        public void forgetEverything(NamespaceLab lab) {
            flushFromOutside(lab);
        }

        @Override
        public void assertComplete(NamespaceLab lab) {
            String table = String.join("\n", ourRules(lab));
            assertThat(table).contains("chain prerouting").contains("chain postrouting").contains("chain forward")
                    .contains("map dnat_natpmp");
        }

        @Override
        public List<String> stubbedBinaries() {
            return FirewallToolStub.NFT;
        }

        @Override
        public void prepareLab(NamespaceLab lab) {
            lab.acceptDnatInForward();
        }
    };

    /** An element of {@code dnat_natpmp}: {@code udp . 40001 : 192.168.50.10 . 4001}. */
    private static final Pattern DNAT_ELEMENT = Pattern.compile("\\w+ \\. \\d+ : \\d+\\.\\d+\\.\\d+\\.\\d+ \\. \\d+");

    private final String id;
    private final String pid;

    BackendKind(String id, String pid) {
        this.id = id;
        this.pid = pid;
    }

    /** @return the value of the backend's {@code natpmp.backend} service property */
    public String id() {
        return id;
    }

    /** @return the backend's configuration PID (its {@code .cfg} in the load folder) */
    public String pid() {
        return pid;
    }

    /** @return the bundle file the launcher seeds into the load folder */
    public String bundleFile() {
        return pid + ".jar";
    }

    /** @return the {@code backend.target} line selecting this backend in {@code natpmp.service.cfg} */
    public String targetLine() {
        return "backend.target=(natpmp.backend=" + id + ")";
    }

    /**
     * @param lab the lab
     * @return the daemon's rules in the gateway (empty when it has none)
     */
    public abstract List<String> ourRules(NamespaceLab lab);

    /**
     * @param lab  the lab
     * @param port a port number
     * @return the daemon's rules (or table lines) that mention {@code port}
     */
    public List<String> rulesMentioning(NamespaceLab lab, int port) {
        Pattern number = Pattern.compile("(^|[^0-9])" + port + "([^0-9]|$)");
        // one nft line may hold many elements: split them so that a match names one element
        return ourRules(lab).stream().flatMap(l -> java.util.Arrays.stream(l.split(",")))
                .filter(l -> number.matcher(l).find()).toList();
    }

    /**
     * @param lab the lab
     * @return whatever this backend left in the gateway (chains, jumps, its table); empty when clean
     */
    public abstract List<String> strayRules(NamespaceLab lab);

    /**
     * @param lab the lab
     * @return how many port forwards the kernel holds for the NAT-PMP service
     */
    public abstract int installedForwards(NamespaceLab lab);

    /**
     * Destroys the daemon's rules from outside the way a firewall reload does, then re-installs the lab's base
     * firewall.
     *
     * @param lab the lab
     */
    public abstract void flushFromOutside(NamespaceLab lab);

    /**
     * Emulates a reboot while the daemon is down: the kernel forgets every rule; the router's own come back.
     *
     * @param lab the lab
     */
    public abstract void forgetEverything(NamespaceLab lab);

    /**
     * Asserts that the daemon's rules are complete (hooked into the kernel's paths).
     *
     * @param lab the lab
     */
    public abstract void assertComplete(NamespaceLab lab);

    /** @return the programs a {@link FirewallToolStub} must replace to make this backend fail */
    public abstract List<String> stubbedBinaries();

    /**
     * Adjusts the lab's base firewall to what an operator of this backend must do.
     *
     * @param lab the lab
     */
    public abstract void prepareLab(NamespaceLab lab);
}
