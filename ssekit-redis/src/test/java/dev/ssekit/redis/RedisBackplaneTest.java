package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.Sse;
import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes kept in step through a real redis-server: each node a broadcaster behind the JDK HTTP
 * server, subscribers reading raw HTTP, publishes going through the backplane of another node.
 */
@Timeout(120)
class RedisBackplaneTest {

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** One node: a broadcaster, its backplane, and {@code GET /events} subscribing to topic "t". */
    private record Node(Broadcaster broadcaster, RedisBackplane backplane, HttpServer http) {
        InetSocketAddress address() {
            return http.getAddress();
        }
    }

    @BeforeEach
    void startRedis() throws IOException {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        redis.close();
    }

    private Node node() throws IOException {
        return node(redis.uri(), 10_000);
    }

    private Node node(String uri, int history) throws IOException {
        return node(uri, history, 100_000);
    }

    private Node node(String uri, int history, int localHistory) throws IOException {
        Broadcaster b = Broadcaster.builder().history(localHistory, 64L << 20, Duration.ofHours(1)).build();
        RedisBackplane backplane = RedisBackplane.builder(uri).broadcaster(b).history(history).build();
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/events", ex -> b.subscribe(Sse.start(ex), "t"));
        http.start();
        closeables.add(() -> {
            http.stop(0);
            executor.shutdownNow();
        });
        closeables.add(b);
        closeables.add(backplane);
        return new Node(b, backplane, http);
    }

    private RawHttp subscribe(Node n, String... headers) throws Exception {
        long before = n.broadcaster().stats().connections();
        RawHttp c = RawHttp.get(n.address(), "/events", "HTTP/1.1", headers);
        closeables.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(n.broadcaster().stats().connections()).as("subscribed").isEqualTo(before + 1));
        return c;
    }

    private static String publish(Node n, String data) {
        return n.backplane().publish(SseMessage.of(data), List.of("t"), false).toCompletableFuture().join();
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
        // one Redis command per publish: the append script
        assertThat(redis.calls("evalsha")).isEqualTo(100);
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
        b.backplane().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS);
        RawHttp onB = subscribe(b, "Last-Event-ID: " + seen.getLast().id());
        List<SseEvent> resumed = onB.events(11);
        assertThat(resumed).extracting(SseEvent::id).isEqualTo(ids.subList(4, 15));
        String next = publish(a, "after the move");
        assertThat(onB.events(1).getFirst().id()).isEqualTo(next);
    }

    /**
     * Issue #15: an id of the stream older than a node's history is {@code expired} (the client is
     * told it missed events and gets what history has), not {@code unknown}; before, the broadcaster
     * judged ids by its own store's epoch, which Redis ids never carry.
     */
    @Test
    void anIdOlderThanANodesHistoryIsExpiredAndAForeignOneUnknown() throws Exception {
        Node a = node(redis.uri(), 10_000, 5);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(publish(a, "e" + i));
        }
        a.backplane().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS);
        RawHttp old = subscribe(a, "Last-Event-ID: " + ids.getFirst());
        List<SseEvent> got = old.events(6);
        assertThat(got.getFirst().type()).isEqualTo("reset");
        assertThat(got.getFirst().data()).isEqualTo("{\"lastEventId\":\"" + ids.getFirst() + "\",\"reason\":\"expired\"}");
        assertThat(got.subList(1, 6)).extracting(SseEvent::id).isEqualTo(ids.subList(5, 10));
        String epoch = ids.getFirst().substring(0, ids.getFirst().lastIndexOf('-'));
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
        assertThat(a.backplane().gaps()).isZero();
        assertThat(a.backplane().connected()).isTrue();
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
        a.backplane().caughtUp().toCompletableFuture().get(10, TimeUnit.SECONDS); // a has read all three
        assertThat(redis.command("XDEL", "{ssekit}:events", "0-2")).isEqualTo(":1");
        Node late = node();
        assertThat(late.backplane().appliedSequence()).isEqualTo(3);
        assertThat(late.backplane().gaps()).isEqualTo(1);
        assertThat(a.backplane().gaps()).isZero();
    }

    @Test
    void publisherIdsEventTypesRetryAndRestrictionTravel() throws Exception {
        Node a = node();
        Node b = node();
        RawHttp onB = subscribe(b);
        SseMessage m = SseMessage.builder().id("urn:uuid:1").event("update").data("line 1\nline 2: ü").retry(Duration.ofMillis(2500))
                .build();
        assertThat(a.backplane().publish(m, List.of("t", "other:7:x"), false).toCompletableFuture().join()).isEqualTo("urn:uuid:1");
        a.backplane().publish(SseMessage.of("secret"), List.of("t"), true).toCompletableFuture().join();
        String last = publish(a, "public");
        assertThat(onB.readEvent()).isEqualTo("id: urn:uuid:1\nevent: update\ndata: line 1\ndata: line 2: ü\nretry: 2500\n\n");
        // the restricted event is not for an unauthorized subscriber
        assertThat(onB.events(1).getFirst().id()).isEqualTo(last);
    }

    @Test
    void topicsSurviveTheirEncoding() {
        List<String> topics = List.of("a", "12:34", "", "x\ny", "ü😀:", "https://example.com/books/{id}");
        assertThat(RedisBackplane.Topics.decode(RedisBackplane.Topics.encode(topics))).isEqualTo(topics);
    }

    @Test
    void builderErrorsNameTheSetting() {
        Broadcaster b = Broadcaster.create();
        closeables.add(b);
        assertThatIllegalArgumentException().isThrownBy(() -> RedisBackplane.builder("http://nope").broadcaster(b).build())
                .withMessage("uri must be a Redis URI like redis://127.0.0.1:6379, got \"http://nope\"");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisBackplane.builder(redis.uri()).build())
                .withMessage("broadcaster must be set");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisBackplane.builder(redis.uri()).broadcaster(b).maxLength(0).build())
                .withMessage("maxLength must be at least 1: 0");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisBackplane.builder(redis.uri()).broadcaster(b).prefix("a b").build())
                .withMessage("prefix must be letters, digits, -, _, . or :, got \"a b\"");
        assertThatThrownBy(() -> RedisBackplane.builder("redis://127.0.0.1:1").broadcaster(b).timeout(Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("cannot use Redis at redis://127.0.0.1:1");
    }
}
