// SPDX-License-Identifier: Apache-2.0
package natpmp.iptables.internal.core;

/** Which iptables flavour the backend drives. */
public enum Variant {
    /** Ask {@code iptables -V} and use the tools of the flavour it names; plain tools if it names none. */
    AUTO,
    /** {@code iptables-nft-restore} / {@code iptables-nft-save} (xtables over nf_tables). */
    NFT,
    /** {@code iptables-legacy-restore} / {@code iptables-legacy-save} (the x_tables kernel interface). */
    LEGACY
}
