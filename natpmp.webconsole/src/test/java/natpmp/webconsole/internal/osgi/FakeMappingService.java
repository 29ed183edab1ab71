// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.osgi;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import natpmp.api.MappingService;
import natpmp.api.MappingSnapshot;
import natpmp.api.Protocol;

/** Returns a fixed snapshot and records delete calls. */
final class FakeMappingService implements MappingService {
    final MappingSnapshot snapshot;
    final List<String> calls = new ArrayList<>();

    FakeMappingService(MappingSnapshot snapshot) {
        this.snapshot = snapshot;
    }

    @Override
    public MappingSnapshot snapshot() {
        return snapshot;
    }

    @Override
    public CompletionStage<Integer> delete(Inet4Address client, Protocol protocol, int internalPort) {
        calls.add("delete " + client.getHostAddress() + " " + protocol + " " + internalPort);
        return CompletableFuture.completedFuture(1);
    }

    @Override
    public CompletionStage<Integer> deleteAll(Inet4Address client) {
        calls.add("deleteAll " + client.getHostAddress());
        return CompletableFuture.completedFuture(2);
    }
}
