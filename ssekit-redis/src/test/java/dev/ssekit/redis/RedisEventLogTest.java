package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.redis.RedisNodes.Node;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes sharing one log through a real redis-server: each node a broadcaster on a {@link
 * RedisEventLog}, behind the JDK HTTP server, subscribers reading raw HTTP, publishes going through
 * the broadcaster of another node.
 */
@Timeout(120)
class RedisEventLogTest {

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
        return node(redis.uri(), 10_000);
    }

    private Node node(String uri, int history) throws IOException {
        return node(uri, history, 100_000);
    }

    private Node node(String uri, int history, int localHistory) throws IOException {
        return RedisNodes.node(RedisEventLog.builder(uri).history(Math.min(history, localHistory), 64L << 20, Duration.ofHours(1)),
                closeables);
    }

    private RawHttp subscribe(Node n, String... headers) throws Exception {
        return RedisNodes.subscribe(n, closeables, headers);
    }

    private static String publish(Node n, String data) {
        return RedisNodes.publish(n, data);
    }

    @Test
    void subscribersOnEveryNodeReceiveInOrderWhatAnyNodePublishes() throws Exception {
        Node a = node();
        Node b = node();
        Node c = node();
        RawHttp onA = subscribe(a);
        RawHttp onB = subscribe(b);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ids.add(publish(i % 2 == 0 ? c : b, "event " + i)); // two publishing nodes, one order
        }
        List<SseEvent> gotA = onA.events(100);
        List<SseEvent> gotB = onB.events(100);
        assertThat(gotA).extracting(SseEvent::id).isEqualTo(ids);
        assertThat(gotB).extracting(SseEvent::id).isEqualTo(ids);
        for (int i = 0; i < 100; i++) {
            assertThat(gotA.get(i).data()).isEqualTo("event " + i);
        }
        // ids are <epoch>-<sequence>, the sequence growing by one per event: a gap would show
        String epoch = ids.getFirst().substring(0, ids.getFirst().indexOf('-'));
        for (int i = 0; i < 100; i++) {
            assertThat(ids.get(i)).isEqualTo(epoch + "-" + (i + 1));
        }
        // one Redis command per publish, the append script (one XADD each); besides, each node's
        // reader runs its check script about once a second (issue #29)
        assertThat(redis.calls("xadd")).isEqualTo(100);
        assertThat(redis.calls("evalsha")).isBetween(100L, 100L + 3 * 30);
    }

    @Test
    void aClientMovingToAnotherNodeWithItsLastEventIdGetsExactlyWhatItMissed() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onA = subscribe(a);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(publish(a, "e" + i));
        }
        List<SseEvent> seen = onA.events(4);
        onA.close(); // the client leaves node A after 4 events; 6 more follow, then 5 after it moved
        for (int i = 10; i < 15; i++) {
            ids.add(publish(a, "e" + i));
        }
        b.log().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS);
        RawHttp onB = subscribe(b, "Last-Event-ID: " + seen.getLast().id());
        List<SseEvent> resumed = onB.events(11);
        assertThat(resumed).extracting(SseEvent::id).isEqualTo(ids.subList(4, 15));
        String next = publish(a, "after the move");
        assertThat(onB.events(1).getFirst().id()).isEqualTo(next);
    }

    /**
     * Issue #15: an id of the stream older than a node's history is {@code expired} (the client is
     * told it missed events and gets what history has), not {@code unknown}; before, the broadcaster
     * judged ids by its own store's epoch, which Redis ids never carry. Now every node's log reports
     * the data set's epoch.
     */
    @Test
    void anIdOlderThanANodesHistoryIsExpiredAndAForeignOneUnknown() throws Exception {
        Node a = node(redis.uri(), 10_000, 5);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(publish(a, "e" + i));
        }
        a.log().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS);
        RawHttp old = subscribe(a, "Last-Event-ID: " + ids.getFirst());
        List<SseEvent> got = old.events(6);
        assertThat(got.getFirst().type()).isEqualTo("reset");
        assertThat(got.getFirst().data()).isEqualTo("{\"lastEventId\":\"" + ids.getFirst() + "\",\"reason\":\"expired\"}");
        assertThat(got.subList(1, 6)).extracting(SseEvent::id).isEqualTo(ids.subList(5, 10));
        String epoch = ids.getFirst().substring(0, ids.getFirst().lastIndexOf('-'));
        assertThat(a.log().epoch()).isEqualTo(epoch);
        assertThat(a.log().lastSequence()).isEqualTo(10);
        assertThat(a.log().size()).isEqualTo(5);
        for (String foreign : List.of("other-3", epoch + "-11", epoch + "-x")) {
            RawHttp c = subscribe(a, "Last-Event-ID: " + foreign);
            SseEvent notice = c.events(1).getFirst();
            assertThat(notice.type()).as(foreign).isEqualTo("reset");
            assertThat(notice.data()).as(foreign).endsWith("\"reason\":\"unknown\"}");
        }
    }

    @Test
    void aRedisRestartMidStreamLosesNoAcknowledgedEvent() throws Exception {
        Node a = node();
        Node c = node();
        RawHttp onA = subscribe(a);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            acknowledged.add(publish(c, "before " + i));
        }
        redis.kill(); // kill -9: only what the append-only file has survives, and that is every acknowledged write
        assertThatThrownBy(() -> publish(c, "while Redis is down")).isInstanceOf(CompletionException.class);
        redis.restart();
        // publishes succeed again once the node has reconnected (Lettuce reconnects by itself)
        await("ten publishes acknowledged after the restart").atMost(java.time.Duration.ofSeconds(30))
                .pollInSameThread().pollInterval(java.time.Duration.ofMillis(50)).until(() -> {
                    try {
                        while (acknowledged.size() < 20) {
                            acknowledged.add(publish(c, "after " + (acknowledged.size() - 10)));
                        }
                    } catch (CompletionException notYet) {
                        // not reconnected yet
                    }
                    return acknowledged.size() == 20;
                });
        List<SseEvent> got = onA.events(20);
        assertThat(got).extracting(SseEvent::id).isEqualTo(acknowledged);
        assertThat(a.log().gaps()).isZero();
        assertThat(a.log().connected()).isTrue();
        // a node started now loads the whole history from Redis, ids intact
        Node late = node();
        RawHttp onLate = subscribe(late, "Last-Event-ID: " + acknowledged.get(14));
        assertThat(onLate.events(5)).extracting(SseEvent::id).isEqualTo(acknowledged.subList(15, 20));
    }

    @Test
    void aNodeCountsEventsTrimmedBeforeItReadThem() throws Exception {
        Node a = node();
        publish(a, "one");
        publish(a, "two");
        publish(a, "three");
        a.log().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS); // a has read all three
        assertThat(redis.command("XDEL", "{ssekit}:events", "0-2")).isEqualTo(":1");
        Node late = node();
        assertThat(late.log().appliedSequence()).isEqualTo(3);
        assertThat(late.log().gaps()).isEqualTo(1);
        assertThat(a.log().gaps()).isZero();
    }

    @Test
    void publisherIdsEventTypesRetryAndRestrictionTravel() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onB = subscribe(b);
        SseMessage m = SseMessage.builder().id("urn:uuid:1").event("update").data("line 1\nline 2: ü").retry(Duration.ofMillis(2500))
                .build();
        assertThat(a.broadcaster().publish(m, List.of("t", "other:7:x"), false)).isEqualTo("urn:uuid:1");
        a.broadcaster().publish(SseMessage.of("secret"), List.of("t"), true);
        String last = publish(a, "public");
        assertThat(onB.readEvent()).isEqualTo("id: urn:uuid:1\nevent: update\ndata: line 1\ndata: line 2: ü\nretry: 2500\n\n");
        // the restricted event is not for an unauthorized subscriber
        assertThat(onB.events(1).getFirst().id()).isEqualTo(last);
    }

    /**
     * The log's own contract: the append completes with the stored event (sequence, id, frame),
     * the follower gets every node's events once, in order, from one thread; one follower only;
     * a closed log fails appends.
     */
    @Test
    void theFollowerGetsEveryNodesEventsInOrderAndAClosedLogRefusesAppends() throws Exception {
        RedisEventLog one = RedisEventLog.builder(redis.uri()).build();
        closeables.add(one);
        RedisEventLog two = RedisEventLog.builder(redis.uri()).build();
        closeables.add(two);
        List<Long> followed = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        one.follow(e -> {
            followed.add(e.sequence());
            threads.add(Thread.currentThread());
        });
        assertThatThrownBy(() -> one.follow(e -> { })).isInstanceOf(IllegalStateException.class);
        dev.ssekit.spi.StoredEvent first = one.append(SseMessage.of("a"), java.util.Set.of("t"), false).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertThat(first.sequence()).isEqualTo(1);
        assertThat(first.id()).isEqualTo(one.epoch() + "-1");
        assertThat(new String(first.frame(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("id: " + one.epoch() + "-1\ndata: a\n\n");
        assertThat(two.epoch()).isEqualTo(one.epoch());
        for (int i = 0; i < 20; i++) {
            (i % 2 == 0 ? two : one).append(SseMessage.of("e" + i), java.util.Set.of("t"), false).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        }
        one.caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(followed).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 21).boxed().toList());
        assertThat(threads).hasSize(1);
        assertThat(one.sequenceOf(one.epoch() + "-7")).hasValue(7);
        assertThat(one.after(19)).extracting(dev.ssekit.spi.StoredEvent::sequence).containsExactly(20L, 21L);
        two.close();
        assertThatThrownBy(() -> two.append(SseMessage.of("late"), java.util.Set.of("t"), false).toCompletableFuture().join())
                .isInstanceOf(CompletionException.class).hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void topicsSurviveTheirEncoding() {
        List<String> topics = List.of("a", "12:34", "", "x\ny", "ü😀:", "https://example.com/books/{id}");
        assertThat(RedisEventLog.Topics.decode(RedisEventLog.Topics.encode(topics))).isEqualTo(topics);
    }

    @Test
    void builderErrorsNameTheSetting() {
        assertThatIllegalArgumentException().isThrownBy(() -> RedisEventLog.builder("http://nope").build())
                .withMessage("uri must be a Redis URI like redis://127.0.0.1:6379, got \"http://nope\"");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisEventLog.builder(redis.uri()).maxLength(0).build())
                .withMessage("maxLength must be at least 1: 0");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisEventLog.builder(redis.uri()).history(0, 1, Duration.ofHours(1)).build())
                .withMessage("history maxEvents must be at least 1: 0");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisEventLog.builder(redis.uri()).prefix("a b").build())
                .withMessage("prefix must be letters, digits, -, _, . or :, got \"a b\"");
        assertThatThrownBy(() -> RedisEventLog.builder("redis://127.0.0.1:1").timeout(Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("cannot use Redis at redis://127.0.0.1:1");
    }
}
