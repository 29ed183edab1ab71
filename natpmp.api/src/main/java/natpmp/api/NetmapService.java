// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import org.osgi.annotation.versioning.ProviderType;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;

/**
 * Read and administer the subnet mapper (DNETMAP semantics, SPEC section C), for the web console, the shell and
 * scripts. The administrative calls are the equivalents of the DNETMAP v2 procfs commands (D19).
 */
@ProviderType
public interface NetmapService {
    /** @return the pools in CIDR notation, in rule order of first use */
    List<String> pools();

    /** @return every binding (prenat not 0.0.0.0) of every pool, by pool and ascending postnat address */
    List<NetmapBinding> bindings();

    /** @return the statistics of every pool */
    List<NetmapPoolStats> stats();

    /**
     * Adds a static binding (D19 {@code +pre:post}); a binding of either address that is in the way is removed.
     *
     * @param prenat  the private address; must not lie in the pool of {@code postnat}
     * @param postnat the public address; must lie in a pool
     * @return the binding
     * @throws IllegalArgumentException with the reason when the binding is not possible
     */
    NetmapBinding addStatic(Inet4Address prenat, Inet4Address postnat);

    /**
     * Removes the binding of an address (D19 {@code -addr}), given as its prenat or its postnat.
     *
     * @param address either side of a binding
     * @return whether a binding was removed
     */
    boolean remove(Inet4Address address);

    /**
     * Unbinds every binding of a pool, static ones too (D19 {@code flush}).
     *
     * @param pool the pool in CIDR notation
     * @return the number of bindings removed
     * @throws IllegalArgumentException if there is no such pool
     */
    int flush(String pool);

    /**
     * @param pool the pool in CIDR notation
     * @return the binding table text of {@code /proc/net/xt_DNETMAP/<net>_<bits>} (D14), empty if no such pool
     */
    Optional<String> procTable(String pool);

    /**
     * @param pool the pool in CIDR notation
     * @return the statistics text of {@code /proc/net/xt_DNETMAP/<net>_<bits>_stat} (D16), empty if no such pool
     */
    Optional<String> procStat(String pool);
}
