package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Restricted (Mercure "private") events, custom selectors and explicit resume points, over real
 * sockets. Each client's subscription is set up by name from a table the test fills in.
 */
@Timeout(60)
class BroadcasterAccessTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<SseConnection> opened = new LinkedBlockingQueue<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    /** Serves /sse?name: the named function subscribes the connection. */
    private TestServer serve(Map<String, Function<SseConnection, Subscription>> subscribers) {
        TestServer server = new TestServer("/sse", exchange -> {
            SseConnection c = Sse.start(exchange);
            subscribers.get(exchange.getRequestURI().getQuery()).apply(c);
            opened.add(c);
        });
        closeables.add(server);
        return server;
    }

    private RawHttp connect(TestServer server, String name, String... headers) throws Exception {
        RawHttp c = RawHttp.get(server.address(), "/sse?" + name, "HTTP/1.1", headers);
        closeables.add(c);
        assertThat(opened.poll(10, TimeUnit.SECONDS)).isNotNull();
        return c;
    }

    /** Data of the events a client got, read until the marker event (published last, to all). */
    private static List<String> dataUntilEnd(RawHttp c) throws IOException {
        List<String> data = new ArrayList<>();
        SseParser p = SseParser.create(e -> data.add(e.data()));
        while (data.isEmpty() || !data.getLast().equals("end")) {
            p.feed(c.readEvent().getBytes(UTF_8));
        }
        return data.subList(0, data.size() - 1);
    }

    @Test
    void restrictedEventsReachOnlyAuthorizedSubscribers() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        TestServer server = serve(Map.of(
                "a", c -> hub.subscription(c).topics(TopicSelector.glob("books/*"), TopicSelector.exact("end"))
                        .authorizedFor(List.of(TopicSelector.exact("books/1"))).start(),
                "b", c -> hub.subscription(c).topics(TopicSelector.glob("books/*"), TopicSelector.exact("end")).start(),
                "c", c -> hub.subscription(c).topics(TopicSelector.all()).authorizedFor(List.of(TopicSelector.all())).start(),
                "d", c -> hub.subscription(c).topics(TopicSelector.exact("books/9"), TopicSelector.exact("end"))
                        .authorizedFor(List.of(TopicSelector.exact("users/9"))).start(),
                // every topic, no authorization; and every topic plus an exact one (each event once)
                "e", c -> hub.subscription(c).topics(TopicSelector.all()).start(),
                "f", c -> hub.subscription(c).topics(TopicSelector.exact("books/2"), TopicSelector.all())
                        .authorizedFor(List.of(TopicSelector.exact("books/2"))).start()));
        RawHttp a = connect(server, "a");
        RawHttp b = connect(server, "b");
        RawHttp c = connect(server, "c");
        RawHttp d = connect(server, "d");
        RawHttp e = connect(server, "e");
        RawHttp f = connect(server, "f");
        hub.publish(SseMessage.of("private 1"), List.of("books/1"), true);
        hub.publish(SseMessage.of("private 2"), List.of("books/2"), true);
        hub.publish(SseMessage.of("public 2"), List.of("books/2"), false);
        // Mercure: one topic matches the selectors, another (alternate) one the authorization
        hub.publish(SseMessage.of("private 9"), List.of("books/9", "users/9"), true);
        hub.publish(SseMessage.of("end"), "end");
        assertThat(dataUntilEnd(a)).containsExactly("private 1", "public 2");
        assertThat(dataUntilEnd(b)).containsExactly("public 2");
        assertThat(dataUntilEnd(c)).containsExactly("private 1", "private 2", "public 2", "private 9");
        assertThat(dataUntilEnd(d)).containsExactly("private 9");
        assertThat(dataUntilEnd(e)).containsExactly("public 2");
        assertThat(dataUntilEnd(f)).containsExactly("private 2", "public 2");
    }

    @Test
    void replaysApplyTheSameRule() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        hub.publish(SseMessage.of("private"), List.of("t"), true);
        hub.publish(SseMessage.of("public"), List.of("t"), false);
        TestServer server = serve(Map.of(
                "anonymous", c -> hub.subscription(c).topics(TopicSelector.exact("t")).resumeFrom(Broadcaster.EARLIEST).start(),
                "authorized", c -> hub.subscription(c).topics(TopicSelector.exact("t")).authorizedFor(List.of(TopicSelector.exact("t")))
                        .resumeFrom(Broadcaster.EARLIEST).start()));
        RawHttp anonymous = connect(server, "anonymous");
        RawHttp authorized = connect(server, "authorized");
        hub.publish(SseMessage.of("end"), "t");
        assertThat(dataUntilEnd(anonymous)).containsExactly("public");
        assertThat(dataUntilEnd(authorized)).containsExactly("private", "public");
    }

    @Test
    void customSelectorsMatchWithTheirOwnRule() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        TopicSelector books = TopicSelector.of("https://example.com/books/{id}",
                t -> t.matches("https://example\\.com/books/[^/]+"));
        TestServer server = serve(Map.of("x", c -> hub.subscription(c).topics(books, TopicSelector.exact("end")).start()));
        RawHttp x = connect(server, "x");
        hub.publish(SseMessage.of("book 1"), "https://example.com/books/1");
        hub.publish(SseMessage.of("chapter"), "https://example.com/books/1/chapters/2");
        hub.publish(SseMessage.of("end"), "end");
        assertThat(dataUntilEnd(x)).containsExactly("book 1");
        assertThat(books).isNotEqualTo(TopicSelector.of("https://example.com/books/{id}", t -> true)).isEqualTo(books);
        assertThat(books.toString()).isEqualTo("https://example.com/books/{id}");
    }

    /**
     * The resume seam: a client resumes from an event whose fan-out is still under way (its id is
     * already the newest in history: another subscriber of it reconnected fast, or a hub read
     * {@code lastEventId()} meanwhile). It must get what follows that event, never the event itself.
     * A restricted event's authorization check that waits on a latch holds the fan-out in place.
     */
    @Test
    void aResumePointWhoseFanOutIsUnderWayIsNotDeliveredAgain() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        java.util.concurrent.CountDownLatch inFanOut = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        TopicSelector slow = TopicSelector.of("slow", t -> {
            inFanOut.countDown();
            try {
                return release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        java.util.concurrent.atomic.AtomicReference<String> resumeFrom = new java.util.concurrent.atomic.AtomicReference<>();
        TestServer server = serve(Map.of(
                "slow", c -> hub.subscription(c).topics(TopicSelector.all()).authorizedFor(List.of(slow)).start(),
                "late", c -> hub.subscription(c).topics(TopicSelector.glob("x*")).authorizedFor(List.of(TopicSelector.all()))
                        .resumeFrom(resumeFrom.get()).start()));
        connect(server, "slow");
        Thread publisher = Thread.ofVirtual().start(() -> hub.publish(SseMessage.of("one"), List.of("x"), true));
        assertThat(inFanOut.await(10, TimeUnit.SECONDS)).as("the fan-out reached the slow check").isTrue();
        resumeFrom.set(hub.lastEventId().orElseThrow()); // "one": stored, its fan-out under way
        RawHttp late = connect(server, "late");
        release.countDown();
        publisher.join(10_000);
        hub.publish(SseMessage.of("two"), List.of("x"), true);
        hub.publish(SseMessage.of("end"), List.of("x"), true);
        assertThat(dataUntilEnd(late)).containsExactly("two");
    }

    /**
     * Subscribers that share one selector instance (as the hub's selector store hands out) cost a
     * publish one match of it per topic in their delivery group, not one per subscriber; each still
     * gets the event once. One lane: all 20 subscribers share one group.
     */
    @Test
    void aSharedSelectorIsMatchedOncePerPublish() throws Exception {
        Broadcaster hub = Broadcaster.builder().deliveryLanes(1).build();
        closeables.add(hub);
        java.util.concurrent.atomic.AtomicInteger matches = new java.util.concurrent.atomic.AtomicInteger();
        TopicSelector shared = TopicSelector.of("books/{id}", t -> {
            matches.incrementAndGet();
            return t.startsWith("books/");
        });
        Map<String, Function<SseConnection, Subscription>> routes = new java.util.HashMap<>();
        for (int i = 0; i < 20; i++) {
            routes.put("s" + i, c -> hub.subscription(c).topics(shared, TopicSelector.exact("end")).start());
        }
        TestServer server = serve(routes);
        List<RawHttp> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            clients.add(connect(server, "s" + i));
        }
        matches.set(0);
        hub.publish(SseMessage.of("book 1"), List.of("books/1", "other"));
        hub.publish(SseMessage.of("end"), "end");
        for (RawHttp c : clients) {
            assertThat(dataUntilEnd(c)).containsExactly("book 1");
        }
        // delivered: the group has matched both events (it matches on its own thread, after publish)
        assertThat(matches.get()).as("at most one match per topic of each event (books/1, other; end), for all 20 subscribers")
                .isBetween(1, 3);
    }

    @Test
    void lastEventIdIsTheNewestEventInHistory() {
        Broadcaster hub = Broadcaster.builder().history(2, 1 << 20, java.time.Duration.ofHours(1)).build();
        closeables.add(hub);
        assertThat(hub.lastEventId()).isEmpty();
        String first = hub.publish(SseMessage.of("one"), "t");
        assertThat(hub.lastEventId()).contains(first);
        hub.publish(SseMessage.builder().id("own-id").data("two").build(), "u");
        assertThat(hub.lastEventId()).contains("own-id");
        String third = hub.publish(SseMessage.of("three"), "t"); // evicts "one"
        assertThat(hub.lastEventId()).contains(third);
    }

    @Test
    void explicitResumePointsAndEarliest() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        String first = hub.publish(SseMessage.of("one"), "t");
        hub.publish(SseMessage.of("two"), "t");
        assertThat(hub.resumePoint(first)).isEqualTo(first);
        assertThat(hub.resumePoint("nope")).isEqualTo(Broadcaster.EARLIEST);
        assertThat(hub.resumePoint(Broadcaster.EARLIEST)).isEqualTo(Broadcaster.EARLIEST);
        TestServer server = serve(Map.of(
                "query", c -> hub.subscription(c).topics(TopicSelector.exact("t")).resumeFrom(first).start(),
                "earliest", c -> hub.subscription(c).topics(TopicSelector.exact("t")).resumeFrom(Broadcaster.EARLIEST).start()));
        // the explicit resume point wins over the Last-Event-ID header
        RawHttp query = connect(server, "query", "Last-Event-ID: nope");
        RawHttp earliest = connect(server, "earliest");
        hub.publish(SseMessage.of("end"), "t");
        assertThat(dataUntilEnd(query)).containsExactly("two");
        assertThat(dataUntilEnd(earliest)).containsExactly("one", "two");
    }
}
