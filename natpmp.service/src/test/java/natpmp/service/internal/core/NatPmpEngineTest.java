// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import static org.assertj.core.api.Assertions.assertThat;

import natpmp.api.FirewallChange;
import natpmp.api.Origin;
import natpmp.api.PortForward;
import natpmp.api.Protocol;
import natpmp.service.internal.core.Bytes.MapReply;
import natpmp.service.internal.core.Outcome.Joined;
import natpmp.service.internal.core.Outcome.Pending;
import natpmp.service.internal.core.Outcome.Reply;
import natpmp.service.internal.core.Request.ExternalAddressRequest;
import natpmp.service.internal.core.Request.MapRequest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

class NatPmpEngineTest {
    static final Inet4Address A = Addresses.parse("192.168.50.10");
    static final Inet4Address B = Addresses.parse("192.168.50.11");
    static final Inet4Address EXT = Addresses.parse("203.0.113.1");

    private long now = 1_000_000;
    private NatPmpEngine engine;

    @BeforeEach
    void setUp() {
        engine = engine(EngineSettings.defaults());
    }

    private NatPmpEngine engine(EngineSettings s) {
        NatPmpEngine e = new NatPmpEngine(s, GatewayPorts.NONE, new SplittableRandom(7), now);
        e.setExternalAddress(Optional.of(EXT));
        e.setBackendAvailable(true);
        return e;
    }

    private static EngineSettings settings(int low, int high, int quota, int limit, String... rules) {
        List<PermissionRule> r = new java.util.ArrayList<>();
        for (String s : rules) {
            r.add(PermissionRule.parse(s));
        }
        return new EngineSettings(new PortRange(low, high), List.of(), new LifetimePolicy(1, 86400), quota, limit, 1000,
                1000, new Permissions(r));
    }

    private Outcome map(Inet4Address c, Protocol p, int in, int suggested, long lifetime) {
        return engine.handle(c, new MapRequest(p, in, suggested, lifetime), now);
    }

    private static MapReply reply(Outcome o) {
        assertThat(o).isInstanceOf(Reply.class);
        return MapReply.of(((Reply) o).bytes());
    }

    /** Creates a mapping and commits it; returns the reply. */
    private MapReply mapCommitted(Inet4Address c, Protocol p, int in, int suggested, long lifetime) {
        Outcome o = map(c, p, in, suggested, lifetime);
        assertThat(o).isInstanceOf(Pending.class);
        List<Completion> done = engine.committed(List.of(((Pending) o).ticket()), now);
        assertThat(done).hasSize(1);
        return MapReply.of(done.get(0).reply());
    }

    private Optional<NatPmpEngine.FastAnswer> fast(Inet4Address c, Protocol p, int in, long lifetime) {
        return engine.answerRenewal(c, new MapRequest(p, in, 0, lifetime), now, engine.epochSeconds(now));
    }

    @Test
    @DisplayName("N14 off the owner thread: only mappings in the kernel with no change pending are renewed there")
    void n14_fastRenewalOnlyForCommittedMappings() {
        Outcome pending = map(A, Protocol.UDP, 5000, 40000, 3600);
        assertThat(fast(A, Protocol.UDP, 5000, 3600)).as("rule not in the kernel yet").isEmpty();
        engine.committed(List.of(((Pending) pending).ticket()), now);
        Optional<NatPmpEngine.FastAnswer> a = fast(A, Protocol.UDP, 5000, 60);
        assertThat(a).isPresent();
        assertThat(MapReply.of(a.get().reply())).isEqualTo(new MapReply(0x81, 0, 0, 5000, 40000, 60));
        assertThat(a.get().port()).isEqualTo(40000);
        assertThat(fast(A, Protocol.TCP, 5000, 60)).as("other protocol").isEmpty();
        assertThat(fast(B, Protocol.UDP, 5000, 60)).as("other client").isEmpty();
        assertThat(engine.answerRenewal(A, new MapRequest(Protocol.UDP, 5000, 0, 0), now, 0)).as("delete").isEmpty();
        // the owner applies it: the lifetime counts from the answer, shorter than before (N17)
        now += 10_000;
        assertThat(engine.renewedElsewhere(a.get().key(), 40000, 60, now - 5_000)).isEmpty();
        assertThat(engine.lease(a.get().key()).orElseThrow().expiresAt()).isEqualTo(now - 5_000 + 60_000);
        // a deletion on its way to the kernel takes the mapping out of the view at once
        Outcome del = map(A, Protocol.UDP, 5000, 0, 0);
        assertThat(del).isInstanceOf(Pending.class);
        assertThat(fast(A, Protocol.UDP, 5000, 60)).isEmpty();
        engine.failed(List.of(((Pending) del).ticket()), now);
        assertThat(fast(A, Protocol.UDP, 5000, 60)).as("rolled back: in the kernel again").isPresent();
    }

    @Test
    @DisplayName("N14/N17 off the owner thread: static and nearly expired mappings go to the owner thread")
    void n14_fastRenewalLeavesStaticAndExpiringToTheOwner() {
        engine.setStaticMappings(List.of(new StaticMapping(Protocol.TCP, 2222, A, 22)))
                .ifPresent(ic -> engine.committed(List.of(ic.ticket()), now));
        assertThat(fast(A, Protocol.TCP, 22, 3600)).isEmpty();
        mapCommitted(A, Protocol.UDP, 6000, 46000, 3);
        now += 1_500; // 1.5 s left: under the margin
        assertThat(fast(A, Protocol.UDP, 6000, 3600)).isEmpty();
    }

    @Test
    @DisplayName("N14 off the owner thread: a mapping that went away meanwhile is made again with the port the client was told")
    void n14_fastRenewalOfAVanishedMappingMakesItAgain() {
        mapCommitted(A, Protocol.UDP, 7000, 47000, 3600);
        Optional<NatPmpEngine.FastAnswer> a = fast(A, Protocol.UDP, 7000, 3600);
        assertThat(a).isPresent();
        Outcome del = map(A, Protocol.UDP, 7000, 0, 0); // processed by the owner before the renewal notice
        engine.committed(List.of(((Pending) del).ticket()), now);
        Optional<InternalChange> again = engine.renewedElsewhere(a.get().key(), 47000, 3600, now);
        assertThat(again).isPresent();
        assertThat(again.get().change().addForwards())
                .containsExactly(new PortForward(Protocol.UDP, 47000, A, 7000));
        assertThat(fast(A, Protocol.UDP, 7000, 3600)).as("pending again").isEmpty();
        engine.committed(List.of(again.get().ticket()), now);
        assertThat(fast(A, Protocol.UDP, 7000, 3600)).isPresent();
    }

    @Test
    @DisplayName("rate limit applies to renewals answered off the owner thread too: result 4, ports zero (N21)")
    void fastRenewalCountsAgainstTheRateLimit() {
        engine = engine(new EngineSettings(new PortRange(1024, 65535), List.of(), new LifetimePolicy(1, 86400), 100,
                1000, 1, 2, new Permissions(List.of())));
        mapCommitted(A, Protocol.UDP, 8000, 48000, 3600); // one token
        assertThat(MapReply.of(fast(A, Protocol.UDP, 8000, 3600).orElseThrow().reply()).result()).isZero();
        Optional<NatPmpEngine.FastAnswer> refused = fast(A, Protocol.UDP, 8000, 3600);
        assertThat(refused.orElseThrow().key()).isNull();
        assertThat(MapReply.of(refused.get().reply())).isEqualTo(new MapReply(0x81, 4, 0, 8000, 0, 0));
    }

    @Test
    @DisplayName("N12/N21: short of memory, new mappings get result 4 with port and lifetime 0; renewals and deletes go on")
    void n12_memoryLowRefusesNewMappingsOnly() {
        mapCommitted(A, Protocol.UDP, 9000, 49000, 3600);
        engine.setMemoryLow(true);
        assertThat(reply(map(A, Protocol.UDP, 9001, 49001, 3600))).isEqualTo(new MapReply(0x81, 4, 0, 9001, 0, 0));
        assertThat(reply(map(A, Protocol.UDP, 9000, 0, 3600))).as("renewal").isEqualTo(new MapReply(0x81, 0, 0, 9000,
                49000, 3600));
        assertThat(map(A, Protocol.UDP, 9000, 0, 0)).as("delete").isInstanceOf(Pending.class);
        engine.setMemoryLow(false);
        assertThat(map(A, Protocol.UDP, 9001, 49001, 3600)).isInstanceOf(Pending.class);
    }

    @Test
    void n6_externalAddressAnswered() {
        byte[] b = ((Reply) engine.handle(A, new ExternalAddressRequest(), now)).bytes();
        assertThat(Bytes.hex(b)).isEqualTo("008000000000000" + "0cb007101");
    }

    @Test
    void n7_noExternalAddressGivesNetworkFailureForBothOpcodes() {
        engine.setExternalAddress(Optional.empty());
        byte[] b = ((Reply) engine.handle(A, new ExternalAddressRequest(), now)).bytes();
        assertThat(Bytes.u16(b, 2)).isEqualTo(3);
        assertThat(Bytes.u32(b, 8)).isZero();
        MapReply r = reply(map(A, Protocol.TCP, 22, 0, 3600));
        assertThat(r).isEqualTo(new MapReply(0x82, 3, 0, 22, 0, 0));
        assertThat(engine.leases()).isEmpty();
    }

    @Test
    void n7_noBackendGivesNetworkFailureForMapRequests() {
        engine.setBackendAvailable(false);
        assertThat(reply(map(A, Protocol.UDP, 5000, 0, 3600)).result()).isEqualTo(3);
        assertThat(Bytes.u16(((Reply) engine.handle(A, new ExternalAddressRequest(), now)).bytes(), 2)).isZero();
    }

    @Test
    void n1_n3_n4_otherRequests() {
        assertThat(engine.handle(A, new Request.ResponseIgnored(0x80), now)).isInstanceOf(Outcome.Drop.class);
        byte[] v = ((Reply) engine.handle(A, new Request.UnsupportedVersion(1, 0), now)).bytes();
        assertThat(Bytes.hex(v)).isEqualTo("0080000100000000");
        byte[] op = ((Reply) engine.handle(A, new Request.UnsupportedOpcode(3, Bytes.hex("0003")), now)).bytes();
        assertThat(Bytes.hex(op)).isEqualTo("0083000500000000");
    }

    @Test
    @DisplayName("N9/N12: a new mapping is pending until committed, then answered with the port")
    void n9_createIsPendingThenCommitted() {
        Outcome o = map(A, Protocol.UDP, 5000, 5000, 7200);
        Pending p = (Pending) o;
        PortForward f = new PortForward(Protocol.UDP, 5000, A, 5000);
        assertThat(p.change()).isEqualTo(FirewallChange.forwards(Set.of(f), Set.of()));
        assertThat(engine.hasPending()).isTrue();
        now += 2500;
        List<Completion> done = engine.committed(List.of(p.ticket()), now);
        assertThat(MapReply.of(done.get(0).reply())).isEqualTo(new MapReply(0x81, 0, 2, 5000, 5000, 7200));
        assertThat(engine.hasPending()).isFalse();
    }

    @Test
    @DisplayName("N11: companion port not given to another client; same client gets it for the same internal port")
    void n11_companionPort() {
        mapCommitted(A, Protocol.TCP, 2000, 40000, 3600);
        assertThat(mapCommitted(B, Protocol.UDP, 2000, 40000, 3600).externalPort()).isNotEqualTo(40000);
        assertThat(mapCommitted(A, Protocol.UDP, 2000, 40000, 3600).externalPort()).isEqualTo(40000);
    }

    @Test
    @DisplayName("N11: without a suggestion the client gets the port it holds for the other protocol")
    void n11_companionPreferredWithoutSuggestion() {
        int tcp = mapCommitted(A, Protocol.TCP, 2000, 0, 3600).externalPort();
        assertThat(mapCommitted(A, Protocol.UDP, 2000, 0, 3600).externalPort()).isEqualTo(tcp);
    }

    @Test
    void n12_takenSuggestionGetsAnotherPortAndExhaustionGives4() {
        engine = engine(settings(3000, 3002, 256, 65536));
        assertThat(mapCommitted(B, Protocol.UDP, 1, 3000, 60).externalPort()).isEqualTo(3000);
        assertThat(mapCommitted(A, Protocol.UDP, 1, 3000, 60).externalPort()).isEqualTo(3001);
        assertThat(mapCommitted(A, Protocol.UDP, 2, 3000, 60).externalPort()).isEqualTo(3002);
        assertThat(reply(map(A, Protocol.UDP, 3, 3000, 60))).isEqualTo(new MapReply(0x81, 4, 0, 3, 0, 0));
    }

    @Test
    @DisplayName("N14: a new request for an existing mapping returns the same port whatever the suggestion, at once")
    void n14_idempotentRenewal() {
        int port = mapCommitted(A, Protocol.UDP, 2000, 0, 3600).externalPort();
        now += 1000;
        MapReply r = reply(map(A, Protocol.UDP, 2000, 2200, 7200));
        assertThat(r).isEqualTo(new MapReply(0x81, 0, 1, 2000, port, 7200));
        assertThat(engine.leases()).hasSize(1);
        assertThat(engine.nextExpiry()).hasValue(now + 7200_000);
    }

    @Test
    @DisplayName("N17/N24: renewals are handed out once for lazy saving; a key with a change in flight waits")
    void n17_renewalsDrainedOnceAndNotWhilePending() {
        int port = mapCommitted(A, Protocol.UDP, 2000, 0, 3600).externalPort();
        assertThat(engine.hasRenewed()).isFalse();
        now += 1000;
        reply(map(A, Protocol.UDP, 2000, 0, 7200));
        reply(map(A, Protocol.UDP, 2000, 0, 600)); // twice: one entry, the latest expiry
        assertThat(engine.drainRenewed()).singleElement()
                .satisfies(l -> assertThat(l.externalPort()).isEqualTo(port))
                .satisfies(l -> assertThat(l.expiresAt()).isEqualTo(now + 600_000));
        assertThat(engine.drainRenewed()).isEmpty();

        Pending p = (Pending) map(B, Protocol.TCP, 3000, 0, 3600);
        assertThat(map(B, Protocol.TCP, 3000, 0, 60)).isInstanceOf(Outcome.Joined.class); // renewal while pending
        assertThat(engine.drainRenewed()).as("its rule may still fail").isEmpty();
        assertThat(engine.hasRenewed()).isTrue();
        engine.committed(List.of(p.ticket()), now);
        assertThat(engine.drainRenewed()).singleElement()
                .satisfies(l -> assertThat(l.key().client()).isEqualTo(B));
    }

    @Test
    @DisplayName("N1/N3/N4/N6/N7: the table-free answers are the same from the static path as from handle")
    void n6_statelessMatchesHandle() {
        for (Request r : List.of(new ExternalAddressRequest(), new Request.UnsupportedVersion(1, 0),
                new Request.UnsupportedOpcode(3, Bytes.hex("0003")))) {
            byte[] viaEngine = ((Reply) engine.handle(A, r, now)).bytes();
            byte[] direct = ((Reply) NatPmpEngine.stateless(r, engine.externalAddress(),
                    engine.epochSeconds(now))).bytes();
            assertThat(direct).isEqualTo(viaEngine);
        }
        assertThat(NatPmpEngine.stateless(new Request.ResponseIgnored(0x80), Optional.empty(), 0))
                .isInstanceOf(Outcome.Drop.class);
        assertThat(Bytes.u16(((Reply) NatPmpEngine.stateless(new ExternalAddressRequest(), Optional.empty(), 5))
                .bytes(), 2)).as("N7").isEqualTo(3);
    }

    @Test
    @DisplayName("N14: a request matching a static mapping gets its external port")
    void n14_staticMappingAnswers() {
        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        assertThat(reply(map(A, Protocol.TCP, 22, 0, 3600))).isEqualTo(new MapReply(0x82, 0, 0, 22, 2222, 3600));
    }

    @Test
    @DisplayName("N17: granted lifetime is capped at max and the mapping expires at its deadline")
    void n17_lifetimeCapAndExpiry() {
        engine = engine(new EngineSettings(new PortRange(1024, 65535), List.of(), new LifetimePolicy(1, 3600), 10, 10,
                10, 10, Permissions.ALLOW_ALL));
        assertThat(mapCommitted(A, Protocol.UDP, 1, 0, 604800).lifetime()).isEqualTo(3600);
        assertThat(mapCommitted(A, Protocol.UDP, 2, 0, 1).lifetime()).isEqualTo(1);
        assertThat(engine.expire(now + 999)).isEmpty();
        InternalChange ic = engine.expire(now + 1000).orElseThrow();
        assertThat(ic.removed()).extracting(l -> l.key().internalPort()).containsExactly(2);
        assertThat(ic.change().removeForwards()).hasSize(1);
        assertThat(engine.committed(List.of(ic.ticket()), now)).singleElement()
                .satisfies(c -> assertThat(c.hasReply()).isFalse());
        assertThat(engine.leases()).hasSize(1);
    }

    @Test
    @DisplayName("N18: delete answers internal port, ext 0, lifetime 0; deleting nothing succeeds the same way")
    void n18_delete() {
        int port = mapCommitted(A, Protocol.UDP, 2000, 0, 3600).externalPort();
        Pending p = (Pending) map(A, Protocol.UDP, 2000, 1234, 0);
        assertThat(p.change().removeForwards()).containsExactly(new PortForward(Protocol.UDP, port, A, 2000));
        MapReply first = MapReply.of(engine.committed(List.of(p.ticket()), now).get(0).reply());
        assertThat(first).isEqualTo(new MapReply(0x81, 0, 0, 2000, 0, 0));
        assertThat(reply(map(A, Protocol.UDP, 2000, 1234, 0))).isEqualTo(first);
        assertThat(engine.leases()).isEmpty();
    }

    @Test
    @DisplayName("N19: deleting a static mapping gives 2, request echoed, lifetime 0, mapping untouched")
    void n19_staticNotDeletable() {
        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        assertThat(reply(map(A, Protocol.TCP, 22, 2222, 0))).isEqualTo(new MapReply(0x82, 2, 0, 22, 2222, 0));
        assertThat(engine.leases()).extracting(Lease::origin).containsExactly(Origin.STATIC);
    }

    @Test
    @DisplayName("N20: delete-all removes the client's mappings of one protocol; static ones stay and give 2")
    void n20_deleteAll() {
        mapCommitted(A, Protocol.UDP, 1, 0, 3600);
        mapCommitted(A, Protocol.UDP, 2, 0, 3600);
        mapCommitted(A, Protocol.TCP, 3, 0, 3600);
        mapCommitted(B, Protocol.UDP, 4, 0, 3600);
        Pending p = (Pending) map(A, Protocol.UDP, 0, 0, 0);
        assertThat(p.change().removeForwards()).hasSize(2);
        assertThat(MapReply.of(engine.committed(List.of(p.ticket()), now).get(0).reply()))
                .isEqualTo(new MapReply(0x81, 0, 0, 0, 0, 0));
        assertThat(engine.leases()).extracting(l -> l.key().internalPort()).containsExactlyInAnyOrder(3, 4);

        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        Pending q = (Pending) map(A, Protocol.TCP, 0, 5555, 0); // suggested port ignored
        assertThat(MapReply.of(engine.committed(List.of(q.ticket()), now).get(0).reply()).result()).isEqualTo(2);
        assertThat(engine.leases()).extracting(l -> l.key().internalPort()).containsExactlyInAnyOrder(22, 4);
    }

    @Test
    void n20_deleteAllWithNothingAnswersAtOnce() {
        assertThat(reply(map(A, Protocol.TCP, 0, 0, 0))).isEqualTo(new MapReply(0x82, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("N21: failures echo the internal port with ext port and lifetime 0")
    void n21_internalPortZeroWithLifetimeRefused() {
        assertThat(reply(map(A, Protocol.TCP, 0, 80, 60))).isEqualTo(new MapReply(0x82, 2, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("N34: per-client quota and global limit give 4; deny rules give 2")
    void n34_quotaLimitAndRules() {
        engine = engine(settings(1024, 65535, 2, 3, "deny 0-65535 192.168.50.99 0-65535"));
        mapCommitted(A, Protocol.UDP, 1, 0, 60);
        mapCommitted(A, Protocol.UDP, 2, 0, 60);
        assertThat(reply(map(A, Protocol.UDP, 3, 0, 60)).result()).isEqualTo(4);
        assertThat(reply(map(A, Protocol.UDP, 1, 0, 60)).result()).as("renewal is not a new mapping").isZero();
        mapCommitted(B, Protocol.UDP, 1, 0, 60);
        assertThat(reply(map(B, Protocol.UDP, 2, 0, 60)).result()).isEqualTo(4);
        assertThat(reply(map(Addresses.parse("192.168.50.99"), Protocol.UDP, 2, 0, 60)).result()).isEqualTo(4);
        engine = engine(settings(1024, 65535, 2, 3, "deny 0-65535 192.168.50.99 0-65535"));
        assertThat(reply(map(Addresses.parse("192.168.50.99"), Protocol.UDP, 2, 0, 60)).result()).isEqualTo(2);
    }

    @Test
    @DisplayName("rate limit: over the limit map requests get 4, opcode 0 is still answered")
    void rateLimitAnswers4() {
        engine = engine(new EngineSettings(new PortRange(1024, 65535), List.of(), new LifetimePolicy(1, 86400), 256,
                65536, 1, 2, Permissions.ALLOW_ALL));
        mapCommitted(A, Protocol.UDP, 1, 0, 60);
        assertThat(reply(map(A, Protocol.UDP, 1, 0, 60)).result()).isZero();
        assertThat(reply(map(A, Protocol.UDP, 1, 0, 60)).result()).isEqualTo(4);
        assertThat(Bytes.u16(((Reply) engine.handle(A, new ExternalAddressRequest(), now)).bytes(), 2)).isZero();
        now += 1000;
        assertThat(reply(map(A, Protocol.UDP, 1, 0, 60)).result()).isZero();
    }

    @Test
    @DisplayName("group commit: a pending port is taken for concurrent requests")
    void pendingPortIsReserved() {
        Pending p = (Pending) map(A, Protocol.TCP, 80, 8080, 60);
        Pending q = (Pending) map(B, Protocol.TCP, 80, 8080, 60);
        assertThat(q.change().addForwards()).extracting(PortForward::externalPort).containsExactly(8081);
        assertThat(engine.committed(List.of(p.ticket(), q.ticket()), now)).hasSize(2);
    }

    @Test
    @DisplayName("group commit: a retransmission while pending joins the ticket and is answered with it")
    void retransmissionJoinsPendingTicket() {
        Pending p = (Pending) map(A, Protocol.UDP, 5000, 0, 3600);
        int port = p.change().addForwards().iterator().next().externalPort();
        Joined j = (Joined) map(A, Protocol.UDP, 5000, 0, 3600);
        assertThat(j.awaiting()).isEqualTo(p.ticket());
        List<Completion> done = engine.committed(List.of(p.ticket()), now);
        assertThat(done).extracting(Completion::ticket).containsExactly(p.ticket(), j.ticket());
        assertThat(done).allSatisfy(c -> assertThat(MapReply.of(c.reply()).externalPort()).isEqualTo(port));
        assertThat(reply(map(A, Protocol.UDP, 5000, 0, 3600)).externalPort()).as("installed: from memory").isEqualTo(port);
    }

    @Test
    @DisplayName("group commit: a failed batch rolls the table back and answers result 3 to all waiting")
    void failedBatchRollsBack() {
        int installed = mapCommitted(A, Protocol.UDP, 1, 0, 3600).externalPort();
        Pending create = (Pending) map(A, Protocol.UDP, 2, 6000, 3600);
        Joined again = (Joined) map(A, Protocol.UDP, 2, 6000, 3600);
        Pending delete = (Pending) map(A, Protocol.UDP, 1, 0, 0);
        List<Completion> done = engine.failed(List.of(create.ticket(), delete.ticket()), now);
        assertThat(done).extracting(Completion::ticket)
                .containsExactlyInAnyOrder(create.ticket(), again.ticket(), delete.ticket());
        assertThat(done).allSatisfy(c -> {
            assertThat(c.result()).isEqualTo(ResultCode.NETWORK_FAILURE);
            MapReply r = MapReply.of(c.reply());
            assertThat(r.result()).isEqualTo(3);
            assertThat(r.externalPort()).isZero();
            assertThat(r.lifetime()).isZero();
        });
        assertThat(engine.leases()).extracting(Lease::externalPort).containsExactly(installed);
        assertThat(engine.hasPending()).isFalse();
        assertThat(mapCommitted(B, Protocol.UDP, 2, 6000, 60).externalPort()).as("port free again").isEqualTo(6000);
    }

    @Test
    void deleteOfPendingCreateInSameBatchCancelsOut() {
        Pending create = (Pending) map(A, Protocol.UDP, 2, 6000, 3600);
        Pending delete = (Pending) map(A, Protocol.UDP, 2, 0, 0);
        ChangeAccumulator acc = new ChangeAccumulator();
        acc.append(create.change());
        acc.append(delete.change());
        assertThat(acc.isEmpty()).isTrue();
        assertThat(engine.committed(List.of(create.ticket(), delete.ticket()), now)).hasSize(2);
        assertThat(engine.leases()).isEmpty();
    }

    @Test
    void staticMappingsEvictDynamicOnesInTheWayAndCanBeRemoved() {
        int port = mapCommitted(A, Protocol.TCP, 80, 8080, 3600).externalPort();
        InternalChange ic = engine.setStaticMappings(List.of(StaticMapping.parse("tcp " + port + " 192.168.50.11 80")))
                .orElseThrow();
        assertThat(ic.removed()).hasSize(1);
        assertThat(ic.added()).hasSize(1);
        engine.committed(List.of(ic.ticket()), now);
        assertThat(engine.setStaticMappings(List.of(StaticMapping.parse("tcp " + port + " 192.168.50.11 80"))))
                .as("unchanged").isEmpty();
        InternalChange gone = engine.setStaticMappings(List.of()).orElseThrow();
        assertThat(gone.change().removeForwards()).hasSize(1);
        assertThat(engine.leases()).isEmpty();
    }

    @Test
    void adminDeleteLeavesStaticMappings() {
        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        mapCommitted(A, Protocol.UDP, 1, 0, 60);
        mapCommitted(A, Protocol.TCP, 2, 0, 60);
        assertThat(engine.adminDelete(new MappingKey(A, Protocol.TCP, 22))).isEmpty();
        assertThat(engine.adminDeleteAll(A).orElseThrow().removed()).hasSize(2);
        assertThat(engine.leases()).hasSize(1);
    }

    @Test
    void n30_flushDynamicKeepsStatic() {
        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        mapCommitted(B, Protocol.UDP, 1, 0, 60);
        assertThat(engine.flushDynamic().orElseThrow().removed()).hasSize(1);
        assertThat(engine.leases()).extracting(Lease::isStatic).containsExactly(true);
    }

    @Test
    void restoreRejectsExpiredAndCollidingLeases() {
        engine.setStaticMappings(List.of(StaticMapping.parse("tcp 2222 192.168.50.10 22")));
        Lease ok = new Lease(new MappingKey(B, Protocol.UDP, 1), 40000, Origin.NATPMP, 60, now + 1000);
        Lease expired = new Lease(new MappingKey(B, Protocol.UDP, 2), 40001, Origin.NATPMP, 60, now);
        Lease collides = new Lease(new MappingKey(B, Protocol.TCP, 3), 2222, Origin.NATPMP, 60, now + 1000);
        assertThat(engine.restore(List.of(ok, expired, collides), now)).containsExactlyInAnyOrder(expired, collides);
        assertThat(reply(map(B, Protocol.UDP, 1, 0, 60)).externalPort()).isEqualTo(40000);
    }

    @Test
    void n16_epochResetAndContinue() {
        now += 5000;
        assertThat(engine.epochSeconds(now)).isEqualTo(5);
        engine.resetEpoch(now);
        assertThat(engine.epochSeconds(now + 999)).isZero();
        engine.continueEpoch(now - 100_000);
        assertThat(engine.epochSeconds(now)).isEqualTo(100);
    }

    @Test
    void versionMovesOnRenewals() {
        mapCommitted(A, Protocol.UDP, 1, 0, 60);
        long v = engine.version();
        map(A, Protocol.UDP, 1, 0, 60);
        assertThat(engine.version()).isGreaterThan(v);
    }
}
