// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

import java.util.Optional;
import java.util.function.Predicate;

/**
 * The two programs the backend runs.
 *
 * @param restore the {@code iptables-restore} flavour, fed scripts on stdin
 * @param save    the matching {@code iptables-save} flavour, for read-back
 */
public record Tools(String restore, String save) {
    /** Plain names: whatever the distribution's alternatives point at. */
    public static final Tools PLAIN = new Tools("iptables-restore", "iptables-save");
    /** xtables over nf_tables. */
    public static final Tools NFT = new Tools("iptables-nft-restore", "iptables-nft-save");
    /** The legacy x_tables interface. */
    public static final Tools LEGACY = new Tools("iptables-legacy-restore", "iptables-legacy-save");

    /** What {@code iptables -V} prints for each flavour, e.g. {@code iptables v1.8.9 (nf_tables)}. */
    private static final String NFT_MARK = "(nf_tables)";
    private static final String LEGACY_MARK = "(legacy)";

    /** Checks every component. */
    public Tools {
        if (restore == null || save == null) {
            throw new NullPointerException("restore and save must not be null");
        }
    }

    /**
     * Chooses the programs for a variant. An explicit variant always gets its own tools (a missing one fails
     * loudly when it is used). {@link Variant#AUTO} prefers what {@code iptables -V} says, so rules land in the
     * same flavour the operator's own {@code iptables} shows, and falls back to the plain names.
     *
     * @param variant       the configured variant
     * @param versionOutput what {@code iptables -V} printed, empty if it could not be run
     * @param executable    whether a program is on the search path
     * @return the programs to run
     */
    public static Tools choose(Variant variant, Optional<String> versionOutput, Predicate<String> executable) {
        switch (variant) {
            case NFT:
                return NFT;
            case LEGACY:
                return LEGACY;
            default:
                String version = versionOutput.orElse("");
                if (version.contains(NFT_MARK) && NFT.available(executable)) {
                    return NFT;
                }
                if (version.contains(LEGACY_MARK) && LEGACY.available(executable)) {
                    return LEGACY;
                }
                return PLAIN;
        }
    }

    /**
     * @return the matching {@code iptables} command itself ({@code iptables-nft} for {@code iptables-nft-restore}),
     *         for listing one built-in chain
     */
    public String command() {
        return restore.endsWith("-restore") ? restore.substring(0, restore.length() - "-restore".length())
                : restore;
    }

    private boolean available(Predicate<String> executable) {
        return executable.test(restore) && executable.test(save);
    }
}
