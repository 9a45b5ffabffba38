package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.redis.RedisNodes.Node;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #29: what Redis and the network do to the log, against a real redis-server: data lost
 * ({@code FLUSHALL}, a restart without persistence) or rolled back (a restart from an older
 * snapshot), a node that falls out of the stream's window, a connection dropped after the append
 * was sent. No id may name two events, no node may go silent, no gap may go untold, and a retried
 * append must not store a second event.
 */
@Timeout(60)
class RedisFaultsTest {

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startRedis() throws IOException {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        RedisNodes.closeAll(closeables);
        redis.close();
    }

    private Node node() throws IOException {
        return node(RedisEventLog.builder(redis.uri()));
    }

    private Node node(RedisEventLog.Builder builder) throws IOException {
        return RedisNodes.node(builder, closeables);
    }

    private RawHttp subscribe(Node n, String... headers) throws Exception {
        RawHttp c = RedisNodes.subscribe(n, closeables, headers);
        c.socket.setSoTimeout(15_000);
        return c;
    }

    private static String publish(Node n, String data) {
        return RedisNodes.publish(n, data);
    }

    /** Publishes once Redis takes appends again (a restarted Redis: the node reconnects first). */
    private static String publishWhenBack(Node n, String data) {
        return await("a publish acknowledged").atMost(Duration.ofSeconds(20)).pollInSameThread().pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    try {
                        return publish(n, data);
                    } catch (CompletionException notYet) {
                        return null;
                    }
                }, id -> id != null);
    }

    private List<String> publishAll(Node n, String prefix, int count) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            ids.add(publish(n, prefix + i));
        }
        return ids;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /**
     * What every scenario of lost or rolled-back data must end with: the new events carry ids no
     * event had before, a subscriber that stayed on node A is told (a {@code reset}) and then gets
     * them, every node reports the new epoch, and a resume from an old id on A is answered as
     * unknown, never with events after it that are not what followed it.
     */
    private void afterTheLoss(Node a, Node b, RawHttp onA, List<String> before, String oldEpoch) throws Exception {
        List<String> fresh = new ArrayList<>();
        fresh.add(publishWhenBack(b, "new1"));
        fresh.add(publish(b, "new2"));
        fresh.add(publish(b, "new3"));
        assertThat(fresh).as("ids after the loss").doesNotContainAnyElementsOf(before);
        List<SseEvent> got = onA.events(4);
        assertThat(got.getFirst().type()).as("the subscriber on A is told first: %s", got).isEqualTo("reset");
        assertThat(got.getFirst().data()).endsWith("\"reason\":\"expired\"}");
        assertThat(got.subList(1, 4)).extracting(SseEvent::id).isEqualTo(fresh);
        assertThat(got.subList(1, 4)).extracting(SseEvent::data).containsExactly("new1", "new2", "new3");
        String newEpoch = fresh.getFirst().substring(0, fresh.getFirst().lastIndexOf('-'));
        assertThat(newEpoch).isNotEqualTo(oldEpoch);
        await("both nodes follow the new epoch").atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(List.of(a.log().epoch(), b.log().epoch())).containsOnly(newEpoch));
        // a client that left before the loss comes back with an old id: told, and never given events
        // that did not follow its id
        RawHttp old = subscribe(a, "Last-Event-ID: " + before.get(2));
        SseEvent notice = old.events(1).getFirst();
        assertThat(notice.type()).isEqualTo("reset");
        assertThat(notice.data()).endsWith("\"reason\":\"unknown\"}");
        String next = publish(b, "new4");
        List<SseEvent> then = old.events(1);
        assertThat(then).extracting(SseEvent::id).as("after the notice: live events only").containsExactly(next);
    }

    @Test
    void flushAllStartsANewEpochThatEveryNodeFollowsAndTells() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onA = subscribe(a);
        List<String> before = publishAll(b, "old", 5);
        assertThat(onA.events(5)).extracting(SseEvent::id).isEqualTo(before);
        String oldEpoch = a.log().epoch();
        assertThat(redis.command("FLUSHALL")).isEqualTo("+OK");
        afterTheLoss(a, b, onA, before, oldEpoch);
    }

    @Test
    void aRestartWithoutPersistenceStartsANewEpochThatEveryNodeFollows() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onA = subscribe(a);
        List<String> before = publishAll(b, "old", 5);
        assertThat(onA.events(5)).extracting(SseEvent::id).isEqualTo(before);
        String oldEpoch = a.log().epoch();
        redis.kill();
        deleteTree(dir.resolve("appendonlydir")); // as if Redis ran without persistence
        redis.restart();
        afterTheLoss(a, b, onA, before, oldEpoch);
    }

    /**
     * Redis's default persistence: snapshots. {@code SAVE}, more publishes, {@code kill -9}, and
     * Redis comes back from the snapshot (here: the append-only directory holds just that
     * snapshot), its counter and epoch key as they were: the ids after the snapshot must not be
     * given again.
     */
    @Test
    void aRestartFromAnOlderSnapshotNeverGivesAnIdTwice() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onA = subscribe(a);
        List<String> before = publishAll(b, "old", 3);
        assertThat(redis.command("SAVE")).isEqualTo("+OK");
        before.addAll(publishAll(b, "later", 4));
        assertThat(onA.events(7)).extracting(SseEvent::id).isEqualTo(before);
        String oldEpoch = a.log().epoch();
        redis.kill();
        Path aof = dir.resolve("appendonlydir");
        deleteTree(aof);
        Files.createDirectories(aof);
        Files.copy(dir.resolve("dump.rdb"), aof.resolve("appendonly.aof.1.base.rdb"));
        Files.writeString(aof.resolve("appendonly.aof.manifest"), "file appendonly.aof.1.base.rdb seq 1 type b\n");
        redis.restart();
        assertThat(redis.command("GET", "{ssekit}:seq")).as("rolled back").isEqualTo("$1");
        afterTheLoss(a, b, onA, before, oldEpoch);
    }

    /**
     * A node that cannot read for a while (here its connection to Redis is held, as a node under
     * {@code kill -STOP} would be) while the stream, kept short, is trimmed past it: its subscriber
     * is told before the events after the hole, not left with a silent jump.
     */
    @Test
    void aNodeThatFellOutOfTheWindowTellsItsSubscribers() throws Exception {
        RedisProxy proxy = RedisProxy.start(redis.port());
        closeables.add(proxy);
        Node a = node(RedisEventLog.builder(proxy.uri()).maxLength(10).history(10, 1 << 20, Duration.ofHours(1)));
        RedisEventLog b = RedisEventLog.builder(redis.uri()).maxLength(10).build();
        closeables.add(b);
        RawHttp onA = subscribe(a);
        List<String> first = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            first.add(b.append(SseMessage.of("e" + i), java.util.Set.of("t"), false).toCompletableFuture().get(10, TimeUnit.SECONDS).id());
        }
        assertThat(onA.events(2)).extracting(SseEvent::id).isEqualTo(first);
        proxy.pause();
        List<CompletableFuture<dev.ssekit.spi.StoredEvent>> more = new ArrayList<>();
        for (int i = 3; i <= 400; i++) {
            more.add(b.append(SseMessage.of("e" + i), java.util.Set.of("t"), false).toCompletableFuture());
        }
        CompletableFuture.allOf(more.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        assertThat(Long.parseLong(redis.command("XLEN", "{ssekit}:events").substring(1))).as("trimmed").isLessThan(300);
        proxy.pass();
        // A may have had e3 on its way before it stopped; then comes the hole, which must be told
        String epoch = first.getLast().substring(0, first.getLast().lastIndexOf('-'));
        String lastSeen = first.getLast();
        long expected = 3;
        while (true) {
            SseEvent next = onA.events(1).getFirst();
            if (next.type().equals("reset")) {
                assertThat(next.data()).isEqualTo("{\"lastEventId\":\"" + lastSeen + "\",\"reason\":\"expired\"}");
                break;
            }
            assertThat(next.id()).as("no jump without a notice").isEqualTo(epoch + "-" + expected);
            lastSeen = next.id();
            expected++;
        }
        SseEvent afterHole = onA.events(1).getFirst();
        assertThat(Long.parseLong(afterHole.id().substring(epoch.length() + 1))).isGreaterThan(expected);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.log().appliedSequence() == 400);
        assertThat(a.log().gaps()).isGreaterThan(0);
        // a resume across the hole says so too
        RawHttp resumed = subscribe(a, "Last-Event-ID: " + first.getLast());
        assertThat(resumed.events(1).getFirst().type()).isEqualTo("reset");
    }

    /**
     * The connection drops after the append script was sent, before its reply: the client sends
     * it again once reconnected. Redis must store the event once.
     */
    @Test
    void anAppendResentAfterADroppedConnectionIsStoredOnce() throws Exception {
        RedisProxy proxy = RedisProxy.start(redis.port());
        closeables.add(proxy);
        RedisEventLog log = RedisEventLog.builder(proxy.uri()).build();
        closeables.add(log);
        log.append(SseMessage.of("warm-up"), java.util.Set.of("t"), false).toCompletableFuture().get(10, TimeUnit.SECONDS);
        proxy.dropAfterAppend(false);
        String id;
        try {
            id = log.append(SseMessage.of("once"), java.util.Set.of("t"), false).toCompletableFuture().get(20, TimeUnit.SECONDS).id();
        } catch (java.util.concurrent.ExecutionException unknown) {
            id = null; // the outcome is unknown to the client: allowed, a duplicate is not
        }
        assertThat(proxy.drops()).isEqualTo(1);
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once (id %s)", id).isEqualTo(":2");
    }

    /**
     * The connection drops after the append script was forwarded, and the client cannot reach
     * Redis again before its timeout: the append's outcome is unknown, and says so (the event
     * was in fact stored). A retry with the same idempotency key once Redis is reachable is
     * answered with the first result: one event.
     */
    @Test
    void anAppendWhoseAnswerIsLostIsUnknownAndItsRetryReturnsTheFirstResult() throws Exception {
        RedisProxy proxy = RedisProxy.start(redis.port());
        closeables.add(proxy);
        RedisEventLog log = RedisEventLog.builder(proxy.uri()).timeout(Duration.ofSeconds(1)).build();
        closeables.add(log);
        proxy.dropAfterAppend(true);
        SseMessage m = SseMessage.of("once");
        Throwable failed = org.assertj.core.api.Assertions.catchThrowable(
                () -> log.append(m, java.util.Set.of("t"), false, "key-1").toCompletableFuture().get(20, TimeUnit.SECONDS));
        assertThat(failed).isInstanceOf(java.util.concurrent.ExecutionException.class)
                .hasCauseInstanceOf(dev.ssekit.spi.AppendOutcomeUnknownException.class);
        assertThat(((dev.ssekit.spi.AppendOutcomeUnknownException) failed.getCause()).idempotencyKey()).isEqualTo("key-1");
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored, though the client could not tell").isEqualTo(":1");
        proxy.pass();
        dev.ssekit.spi.StoredEvent retried = await("the retry answered").atMost(Duration.ofSeconds(20)).pollInSameThread()
                .pollInterval(Duration.ofMillis(100)).until(() -> {
                    try {
                        return log.append(m, java.util.Set.of("t"), false, "key-1").toCompletableFuture().get(10, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException notYet) {
                        return null;
                    }
                }, e -> e != null);
        assertThat(retried.id()).isEqualTo(log.epoch() + "-1");
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once").isEqualTo(":1");
        // a refused connection is "not stored", not "unknown": once the client knows the connection is gone
        // (an append written before it saw the drop was sent, and is rightly "unknown": the first half above)
        redis.kill();
        await("the client saw its connection drop").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> !log.appendConnectionOpen());
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> log.append(m, java.util.Set.of("t"), false, "key-2")
                .toCompletableFuture().get(20, TimeUnit.SECONDS)).getCause()).isInstanceOf(io.lettuce.core.RedisException.class);
    }

    /**
     * Issue #29 review: a retry must be the same publish. An append with a key Redis holds but
     * other content (data, event type, retry, topics, restricted flag) is refused with {@link
     * dev.ssekit.spi.IdempotencyKeyConflictException} naming the key and the stored event's id,
     * never answered as stored; an identical retry (topics in another order, the hub's key as its
     * id) is answered with the event as it was stored, as the reader reads it back.
     */
    @Test
    void aRetryWithTheSameKeyButOtherContentIsRefusedAndAnIdenticalOneReturnsTheStoredEvent() throws Exception {
        RedisEventLog log = RedisEventLog.builder(redis.uri()).build();
        closeables.add(log);
        List<dev.ssekit.spi.StoredEvent> read = new java.util.concurrent.CopyOnWriteArrayList<>();
        log.follow(read::add);
        java.util.Set<String> topics = new java.util.LinkedHashSet<>(List.of("t1", "t0"));
        SseMessage first = SseMessage.builder().event("e").data("a").retry(Duration.ofSeconds(3)).build();
        dev.ssekit.spi.StoredEvent stored = log.append(first, topics, false, "k").toCompletableFuture().get(10, TimeUnit.SECONDS);
        List<Object[]> others = List.of(
                new Object[] {SseMessage.builder().event("e").data("b").retry(Duration.ofSeconds(3)).build(), topics, false},
                new Object[] {SseMessage.builder().event("f").data("a").retry(Duration.ofSeconds(3)).build(), topics, false},
                new Object[] {SseMessage.builder().event("e").data("a").retry(Duration.ofSeconds(4)).build(), topics, false},
                new Object[] {SseMessage.builder().data("a").retry(Duration.ofSeconds(3)).build(), topics, false},
                new Object[] {first, java.util.Set.of("t2"), false},
                new Object[] {first, java.util.Set.of("t1"), false},
                new Object[] {first, topics, true});
        for (Object[] other : others) {
            @SuppressWarnings("unchecked")
            java.util.Set<String> otherTopics = (java.util.Set<String>) other[1];
            Throwable failed = org.assertj.core.api.Assertions.catchThrowable(() -> log.append((SseMessage) other[0], otherTopics,
                    (Boolean) other[2], "k").toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertThat(failed).as("a retry with other content (%s, %s, %s)", new String(((SseMessage) other[0]).encode(),
                    java.nio.charset.StandardCharsets.UTF_8), otherTopics, other[2])
                    .isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .hasCauseInstanceOf(dev.ssekit.spi.IdempotencyKeyConflictException.class);
            dev.ssekit.spi.IdempotencyKeyConflictException conflict = (dev.ssekit.spi.IdempotencyKeyConflictException) failed.getCause();
            assertThat(conflict.idempotencyKey()).isEqualTo("k");
            assertThat(conflict.storedId()).isEqualTo(stored.id());
            assertThat(conflict.getMessage()).contains("\"k\"", stored.id());
        }
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once").isEqualTo(":1");
        // identical: topics in another order, and the key as the message's id (the hub's retry of a keyless publish)
        java.util.Set<String> reordered = new java.util.LinkedHashSet<>(List.of("t0", "t1"));
        for (SseMessage same : List.of(first, first.withId("k"))) {
            dev.ssekit.spi.StoredEvent again = log.append(same, reordered, false, "k").toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(again.sequence()).isEqualTo(stored.sequence());
            assertThat(again.id()).isEqualTo(stored.id());
            assertThat(again.topics()).isEqualTo(stored.topics());
            assertThat(again.restricted()).isFalse();
            assertThat(new String(again.frame(), java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo(new String(stored.frame(), java.nio.charset.StandardCharsets.UTF_8));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> read.size() == 1);
        dev.ssekit.spi.StoredEvent back = read.getFirst();
        assertThat(back.id()).isEqualTo(stored.id());
        assertThat(back.sequence()).isEqualTo(stored.sequence());
        assertThat(back.topics()).isEqualTo(stored.topics());
        assertThat(new String(back.frame(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(new String(stored.frame(), java.nio.charset.StandardCharsets.UTF_8));
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once").isEqualTo(":1");
    }

    @Test
    void settingsAreValidated() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> RedisEventLog.builder(redis.uri()).timeout(Duration.ofMillis(50)).build())
                .withMessage("timeout must be at least 100 ms (the reader blocks for half of it): PT0.05S");
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> RedisEventLog.builder(redis.uri()).idempotencyTtl(Duration.ofMillis(10)).build())
                .withMessage("idempotencyTtl must be at least 2 × timeout + 10 s = PT20S (timeout PT5S), got PT0.01S: "
                        + "a publisher told after the timeout that the outcome is unknown must be able to retry, "
                        + "and its retry take up to the timeout, while Redis still holds the key");
        // issue #29 review: the TTL is checked against the timeout, not only against 1 s
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(30))
                        .idempotencyTtl(Duration.ofSeconds(60)).build())
                .withMessageStartingWith("idempotencyTtl must be at least 2 × timeout + 10 s = PT1M10S (timeout PT30S), got PT1M: ");
        RedisEventLog atTheBound = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1))
                .idempotencyTtl(Duration.ofSeconds(12)).build();
        closeables.add(atTheBound);
    }

    /** Issue #29 item 4: a timeout at or under the reader's blocking read must not make an idle node disconnected. */
    @Test
    void aShortTimeoutKeepsAnIdleNodeConnected() throws Exception {
        RedisEventLog log = RedisEventLog.builder(redis.uri()).timeout(Duration.ofMillis(500)).build();
        closeables.add(log);
        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < until) {
            assertThat(log.connected()).as("connected while idle").isTrue();
            Thread.sleep(50); // sampling for 3 s: staying connected while idle is the point (a bounded negative wait)
        }
    }
}
