// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import natpmp.api.FirewallException;
import natpmp.exec.ProcessRunner;
import natpmp.nftables.internal.core.NftSettings.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the {@link NftEngine} the {@code engine} key asks for. */
public final class NftEngines {
    private static final Logger LOG = LoggerFactory.getLogger(NftEngines.class);

    private NftEngines() {
    }

    /**
     * Opens an engine: {@link Engine#LIBRARY} must load libnftables, {@link Engine#AUTO} falls back to processes
     * with an info log saying why, {@link Engine#PROCESS} always runs {@code nft}.
     *
     * @param choice the configured engine
     * @param runner runs {@code nft} for the process engine
     * @return the engine, owned by the caller
     * @throws FirewallException if {@link Engine#LIBRARY} was asked for and libnftables cannot be used
     */
    public static NftEngine open(Engine choice, ProcessRunner runner) throws FirewallException {
        if (choice == Engine.PROCESS) {
            return new NftProcessEngine(runner);
        }
        FirewallException unusable;
        try {
            return LibNftables.open();
        } catch (FirewallException e) {
            unusable = e;
        } catch (NoClassDefFoundError e) {
            // the optional import of com.sun.jna is not wired: no JNA bundle in the framework
            unusable = new FirewallException("JNA (com.sun.jna) is not available: " + e.getMessage());
        }
        if (choice == Engine.LIBRARY) {
            throw unusable;
        }
        LOG.info("nftables: engine AUTO uses one nft process per transaction: {}", unusable.getMessage());
        return new NftProcessEngine(runner);
    }
}
