// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

/**
 * {@link NatPmpEndToEnd} against the nftables backend ({@code backend.target=(natpmp.backend=nftables)}), with
 * whatever engine it picks (libnftables in-process or {@code nft} processes). The lab's base firewall gets the
 * operator step the README asks for ({@code ct status dnat} accepted in the router's own FORWARD chain), because
 * an accept in table {@code ip natpmp} cannot override another table's DROP policy.
 */
class NftablesEndToEndTest extends NatPmpEndToEnd {

    @Override
    protected BackendKind backend() {
        return BackendKind.NFTABLES;
    }

    @Override
    protected void beforeToolFailure(Daemon daemon) {
        // a stubbed nft binary cannot break the in-process libnftables engine: this one test runs the backend with
        // one nft process per transaction, which the stub does reach
        daemon.writeConfig(backend().pid(), "watch.interval.ms=1000", "engine=PROCESS");
    }
}
