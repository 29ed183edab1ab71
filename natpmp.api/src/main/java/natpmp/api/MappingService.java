// SPDX-License-Identifier: Apache-2.0
package natpmp.api;

import org.osgi.annotation.versioning.ProviderType;

import java.net.Inet4Address;
import java.util.concurrent.CompletionStage;

/**
 * Read and administer the NAT-PMP mapping table (for the web console, the shell and scripts).
 */
@ProviderType
public interface MappingService {
    /** @return the current state; cheap, never blocks on the kernel */
    MappingSnapshot snapshot();

    /**
     * Deletes one mapping; completes once its rules are gone from the kernel.
     *
     * @param client       the LAN host
     * @param protocol     UDP or TCP
     * @param internalPort the internal port
     * @return completes with the number of mappings removed (0 or 1)
     */
    CompletionStage<Integer> delete(Inet4Address client, Protocol protocol, int internalPort);

    /**
     * Deletes every mapping of a client, of both protocols.
     *
     * @param client the LAN host
     * @return completes with the number of mappings removed
     */
    CompletionStage<Integer> deleteAll(Inet4Address client);
}
