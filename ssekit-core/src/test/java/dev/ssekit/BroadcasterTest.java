package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.StuckWrites;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The broadcaster over real sockets: the JDK server, raw HTTP clients, the shared parser. */
@Timeout(120)
class BroadcasterTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<SseConnection> connections = new LinkedBlockingQueue<>();
    private final BlockingQueue<Subscription> subscriptions = new LinkedBlockingQueue<>();

    @AfterEach
    void tearDown() throws Exception {
        Collections.reverse(closeables);
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    /** A server whose /sse subscribes each connection with the selectors in the query (?t=a&t=b/*). */
    private InetSocketAddress serve(Broadcaster b) {
        TestServer server = closing(new TestServer("/sse", exchange -> {
            String q = exchange.getRequestURI().getQuery();
            List<TopicSelector> selectors = new ArrayList<>();
            for (String part : q == null ? new String[0] : q.split("&")) {
                if (part.startsWith("t=")) {
                    selectors.add(TopicSelector.glob(part.substring(2)));
                }
            }
            SseConnection c = Sse.start(exchange);
            subscriptions.add(b.subscribe(c, selectors));
            connections.add(c);
        }));
        return server.address();
    }

    /** A client reading events on a virtual thread. */
    private final class Client implements AutoCloseable {
        final RawHttp http;
        final BlockingQueue<SseEvent> events = new LinkedBlockingQueue<>();
        final BlockingQueue<String> comments = new LinkedBlockingQueue<>();
        final Thread reader;
        volatile boolean ended;

        Client(InetSocketAddress address, String query, String... headers) throws IOException {
            http = RawHttp.get(address, "/sse?" + query, "HTTP/1.1", headers);
            SseParser parser = SseParser.create(new SseParser.Handler() {
                @Override
                public void onEvent(SseEvent event) {
                    events.add(event);
                }

                @Override
                public void onComment(String comment) {
                    comments.add(comment);
                }
            });
            reader = Thread.ofVirtual().start(() -> {
                byte[] one = new byte[1];
                try {
                    int b;
                    while ((b = http.readBody()) >= 0) {
                        one[0] = (byte) b;
                        parser.feed(one, 0, 1);
                    }
                } catch (IOException e) {
                    // closed by the test
                } finally {
                    ended = true;
                }
            });
        }

        SseEvent next() throws InterruptedException {
            SseEvent e = events.poll(20, TimeUnit.SECONDS);
            assertThat(e).as("an event within 20 s").isNotNull();
            return e;
        }

        List<String> data(int n) throws InterruptedException {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(next().data());
            }
            return out;
        }

        @Override
        public void close() throws IOException {
            http.close();
        }
    }

    private SseConnection nextConnection() throws InterruptedException {
        SseConnection c = connections.poll(10, TimeUnit.SECONDS);
        assertThat(c).isNotNull();
        return c;
    }

    @Test
    void aThousandSubscribersReceiveEveryEventInOrder() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            clients.add(closing(new Client(address, "t=news")));
        }
        for (int i = 0; i < 1000; i++) {
            nextConnection();
        }
        assertThat(b.stats().connections()).isEqualTo(1000);
        for (int i = 0; i < 100; i++) {
            b.publish(SseMessage.of("n" + i), "news");
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add("n" + i);
        }
        for (Client c : clients) {
            assertThat(c.data(100)).isEqualTo(expected);
        }
        BroadcasterStats s = b.stats();
        assertThat(s.published()).isEqualTo(100);
        assertThat(s.delivered()).isEqualTo(100_000);
        assertThat(s.historySize()).isEqualTo(100);
    }

    @Test
    void topicsAndSelectors() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        Client exact = closing(new Client(address, "t=a"));
        Client glob = closing(new Client(address, "t=orders/*"));
        Client deep = closing(new Client(address, "t=orders/**"));
        Client all = closing(new Client(address, "t=**"));
        Client two = closing(new Client(address, "t=a&t=b"));
        for (int i = 0; i < 5; i++) {
            nextConnection();
        }
        b.publish(SseMessage.of("to a"), "a");
        b.publish(SseMessage.of("to order 1"), "orders/1");
        b.publish(SseMessage.of("to order line"), "orders/1/lines");
        b.publish(SseMessage.of("to a and b"), "a", "b");
        b.publish(SseMessage.of("end"), "a", "b", "orders/end");
        assertThat(exact.data(3)).containsExactly("to a", "to a and b", "end");
        assertThat(glob.data(2)).containsExactly("to order 1", "end");
        assertThat(deep.data(3)).containsExactly("to order 1", "to order line", "end");
        assertThat(all.data(5)).containsExactly("to a", "to order 1", "to order line", "to a and b", "end");
        assertThat(two.data(3)).as("once per subscriber, even when two of its topics match")
                .containsExactly("to a", "to a and b", "end");
    }

    @Test
    void idsAreAssignedAndPublisherIdsKept() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        Client c = closing(new Client(address, "t=x"));
        nextConnection();
        String id1 = b.publish(SseMessage.of("one"), "x");
        String id2 = b.publish(SseMessage.builder().id("order-77").data("two").build(), "x");
        String id3 = b.publish(SseMessage.of("three"), "x");
        assertThat(id1).matches("[0-9a-z]+-1");
        assertThat(id2).isEqualTo("order-77");
        assertThat(id3).isEqualTo(id1.substring(0, id1.length() - 1) + "3");
        assertThat(c.next()).isEqualTo(new SseEvent(id1, "message", "one"));
        assertThat(c.next()).isEqualTo(new SseEvent("order-77", "message", "two"));
        assertThat(c.next()).isEqualTo(new SseEvent(id3, "message", "three"));
    }

    @Test
    void lastEventIdResumesWithEverythingMissedThenLive() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            ids.add(b.publish(SseMessage.of("e" + i), i % 2 == 0 ? "even" : "odd"));
        }
        b.publish(SseMessage.builder().id("custom").data("e6").build(), "odd");
        Client c = closing(new Client(address, "t=odd&t=even", "Last-Event-ID: " + ids.get(1)));
        nextConnection();
        b.publish(SseMessage.of("live"), "even");
        assertThat(c.data(5)).containsExactly("e3", "e4", "e5", "e6", "live");
        Client fromCustom = closing(new Client(address, "t=even", "Last-Event-ID: custom"));
        nextConnection();
        b.publish(SseMessage.of("after custom"), "even");
        assertThat(fromCustom.data(2)).containsExactly("live", "after custom");
    }

    @Test
    void anUnknownIdIsToldThenLiveFollows() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        b.publish(SseMessage.of("old"), "x");
        Client c = closing(new Client(address, "t=x", "Last-Event-ID: from-another-server"));
        nextConnection();
        b.publish(SseMessage.of("new"), "x");
        assertThat(c.next()).isEqualTo(new SseEvent("", "reset",
                "{\"lastEventId\":\"from-another-server\",\"reason\":\"unknown\"}"));
        assertThat(c.next().data()).isEqualTo("new");
    }

    /**
     * Events published with their own numbered ids (as a Redis node republishes the stream's): an id
     * of that numbering below the oldest retained one is expired; one inside the retained range that
     * history lacks, or above it, is unknown (not expired: nothing was lost that history once held).
     */
    @Test
    void ownNumberedIdsAreExpiredOnlyBelowTheOldestRetained() throws Exception {
        Broadcaster b = closing(Broadcaster.builder().history(3, 1 << 20, Duration.ofHours(1)).build());
        InetSocketAddress address = serve(b);
        for (int i : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 10}) {
            b.publish(SseMessage.builder().id("order-" + i).data("e" + i).build(), "x");
        }
        for (String[] c : new String[][] {{"order-2", "expired"}, {"order-6", "expired"}, {"order-9", "unknown"},
            {"order-11", "unknown"}, {"other-2", "unknown"}, {"order-x", "unknown"}}) {
            Client client = closing(new Client(address, "t=x", "Last-Event-ID: " + c[0]));
            nextConnection();
            SseEvent reset = client.next();
            assertThat(reset.type()).as(c[0]).isEqualTo("reset");
            assertThat(reset.data()).as(c[0]).isEqualTo("{\"lastEventId\":\"" + c[0] + "\",\"reason\":\"" + c[1] + "\"}");
        }
    }

    @Test
    void anIdOlderThanHistoryIsToldThenAllRetainedHistoryFollows() throws Exception {
        Broadcaster b = closing(Broadcaster.builder().history(3, 1 << 20, Duration.ofHours(1)).build());
        InetSocketAddress address = serve(b);
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            ids.add(b.publish(SseMessage.of("e" + i), "x"));
        }
        assertThat(b.stats().historySize()).isEqualTo(3);
        Client c = closing(new Client(address, "t=x", "Last-Event-ID: " + ids.get(1)));
        nextConnection();
        SseEvent reset = c.next();
        assertThat(reset.type()).isEqualTo("reset");
        assertThat(reset.data()).isEqualTo("{\"lastEventId\":\"" + ids.get(1) + "\",\"reason\":\"expired\"}");
        assertThat(c.data(3)).containsExactly("e8", "e9", "e10");
    }

    @Test
    void historyIsBoundedByAge() {
        ManualScheduler time = new ManualScheduler();
        Broadcaster b = closing(Broadcaster.builder().scheduler(time).ticker(time)
                .history(100, 1 << 20, Duration.ofMinutes(1)).build());
        b.publish(SseMessage.of("old"), "x");
        time.advance(Duration.ofSeconds(45));
        b.publish(SseMessage.of("newer"), "x");
        assertThat(b.stats().historySize()).isEqualTo(2);
        time.advance(Duration.ofSeconds(30));
        assertThat(b.stats().historySize()).isEqualTo(1);
        assertThat(b.stats().historyBytes()).as("only the newer event's bytes").isBetween(20L, 40L);
    }

    /**
     * Clients disconnect at random and reconnect with their Last-Event-ID while events are being
     * published: across all its connections each client gets every event once, in order.
     */
    @Test
    void randomReconnectsLoseAndDuplicateNothing() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        int clients = 12;
        int events = 1500;
        List<List<String>> received = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<String> published = Collections.synchronizedList(new ArrayList<>());
        String first = b.publish(SseMessage.of("start"), "s");
        published.add("start");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < clients; i++) {
            List<String> got = new CopyOnWriteArrayList<>();
            received.add(got);
            Random random = new Random(i);
            threads.add(Thread.ofVirtual().start(() -> {
                String lastId = first;
                try {
                    while (got.size() < events) {
                        int take = 1 + random.nextInt(200);
                        try (Client c = new Client(address, "t=s", "Last-Event-ID: " + lastId)) {
                            for (int k = 0; k < take && got.size() < events; k++) {
                                SseEvent e = c.events.poll(20, TimeUnit.SECONDS);
                                if (e == null) {
                                    throw new AssertionError("stalled after " + got.size());
                                }
                                got.add(e.data());
                                lastId = e.id();
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (int i = 0; i < events; i++) {
            published.add("e" + i);
            b.publish(SseMessage.of("e" + i), "s");
            if (i % 100 == 0) {
                Thread.sleep(5); // let reconnects interleave with publishing
            }
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(failure.get()).isNull();
        List<String> expected = published.subList(1, events + 1);
        for (List<String> got : received) {
            assertThat(got).isEqualTo(expected);
        }
    }

    @Test
    void aSubscriberThatStopsReadingIsEvictedWhileOthersKeepReceiving() throws Exception {
        Broadcaster b = closing(Broadcaster.builder().maxQueuedBytes(256 * 1024).build());
        InetSocketAddress address = serve(b);
        RawHttp stuck = closing(RawHttp.get(address, "/sse?t=x", "HTTP/1.1"));
        stuck.socket.setReceiveBufferSize(4096);
        SseConnection stuckConn = nextConnection();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        stuckConn.onClose(reasons::add);
        subscriptions.take();
        Client healthy = closing(new Client(address, "t=x"));
        nextConnection();
        Subscription healthySub = subscriptions.take();
        String chunk = "x".repeat(16 * 1024);
        int n = 0;
        while (reasons.isEmpty() && n < 20_000) {
            b.publish(SseMessage.of(chunk + n), "x");
            n++;
            // let the healthy reader keep up: the point is that the stuck one cannot
            while (healthySub.queuedBytes() > 128 * 1024) {
                Thread.sleep(1);
            }
        }
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.SLOW_CONSUMER);
        assertThat(b.stats().evictions()).containsEntry(CloseReason.SLOW_CONSUMER, 1L);
        b.publish(SseMessage.of("after eviction"), "x");
        for (int i = 0; i < n; i++) {
            assertThat(healthy.next().data()).isEqualTo(chunk + i);
        }
        assertThat(healthy.next().data()).isEqualTo("after eviction");
        assertThat(b.stats().connections()).isEqualTo(1);
    }

    @Test
    void dropOldestKeepsTheConnectionAndTheNewestEvents() throws Exception {
        Broadcaster b = closing(Broadcaster.builder().maxQueuedBytes(64 * 1024)
                .slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).build());
        InetSocketAddress address = serve(b);
        RawHttp slow = closing(RawHttp.get(address, "/sse?t=x", "HTTP/1.1"));
        slow.socket.setReceiveBufferSize(4096);
        SseConnection conn = nextConnection();
        String chunk = "y".repeat(8 * 1024);
        int n = 0;
        while (b.stats().dropped() == 0 && n < 20_000) {
            b.publish(SseMessage.of(chunk + n), "x");
            n++;
        }
        assertThat(b.stats().dropped()).isPositive();
        // drops started: read at speed from here (a 4 KiB window moves the kernel's buffered backlog slowly)
        slow.socket.setReceiveBufferSize(1 << 20);
        String last = b.publish(SseMessage.of("newest"), "x");
        List<SseEvent> got = new ArrayList<>();
        SseParser p = SseParser.create(got::add);
        byte[] one = new byte[1];
        while (got.isEmpty() || !got.getLast().data().equals("newest")) {
            int c = slow.readBody();
            assertThat(c).isNotNegative();
            one[0] = (byte) c;
            p.feed(one, 0, 1);
        }
        assertThat(conn.isOpen()).isTrue();
        assertThat(got.getLast().id()).isEqualTo(last);
        assertThat(got.size()).as("some events were dropped").isLessThan(n + 1);
    }

    @Test
    void heartbeatsGoToIdleSubscribersOnly() throws Exception {
        ManualScheduler time = new ManualScheduler();
        Broadcaster b = closing(Broadcaster.builder().scheduler(time).ticker(time).heartbeat(Duration.ofSeconds(10)).build());
        InetSocketAddress address = serve(b);
        Client c = closing(new Client(address, "t=x"));
        nextConnection();
        time.advance(Duration.ofSeconds(5)); // first sweep: idle 5 s < 10 s
        time.advance(Duration.ofSeconds(5)); // idle 10 s: heartbeat
        assertThat(c.comments.poll(10, TimeUnit.SECONDS)).isEqualTo("");
        time.advance(Duration.ofSeconds(5));
        b.publish(SseMessage.of("busy"), "x");
        assertThat(c.next().data()).isEqualTo("busy");
        time.advance(Duration.ofSeconds(5)); // 10 s after the heartbeat but 5 s after the event
        b.publish(SseMessage.of("marker"), "x");
        assertThat(c.next().data()).isEqualTo("marker");
        assertThat(c.comments).as("no heartbeat to a subscriber that got an event recently").isEmpty();
    }

    @Test
    void aWriteThatOutlivesTheDeadlineEvicts() throws Exception {
        ManualScheduler time = new ManualScheduler();
        Broadcaster b = closing(Broadcaster.builder().scheduler(time).ticker(time)
                .writeTimeout(Duration.ofSeconds(20)).heartbeat(Duration.ofSeconds(60)).maxQueuedBytes(1L << 40).build());
        InetSocketAddress address = serve(b);
        RawHttp stuck = closing(RawHttp.get(address, "/sse?t=x", "HTTP/1.1"));
        stuck.socket.setReceiveBufferSize(4096);
        SseConnection conn = nextConnection();
        subscriptions.take();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        conn.onClose(reasons::add);
        StuckWrites.publishUntilStuck(b, "x", stuck.socket);
        StuckWrites.awaitStuckWrite(b);
        time.advance(Duration.ofSeconds(10)); // sweep: the write started at "now-0", not overdue
        assertThat(conn.isOpen()).isTrue();
        time.advance(Duration.ofSeconds(20)); // 20 s later: overdue
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.WRITE_TIMEOUT);
        assertThat(b.stats().evictions()).containsEntry(CloseReason.WRITE_TIMEOUT, 1L);
        assertThat(b.stats().connections()).isZero();
    }

    @Test
    void aClientThatLeavesIsUnsubscribed() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        Client c = new Client(address, "t=x");
        SseConnection conn = nextConnection();
        c.close();
        for (int i = 0; i < 1000 && conn.isOpen(); i++) {
            b.publish(SseMessage.of("ping " + i), "x");
            Thread.sleep(10);
        }
        assertThat(conn.isOpen()).isFalse();
        assertThat(b.stats().connections()).isZero();
        assertThat(b.stats().queuedBytes()).isZero();
    }

    @Test
    void cancelLeavesWithoutClosingTheConnection() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        InetSocketAddress address = serve(b);
        Client c = closing(new Client(address, "t=x"));
        SseConnection conn = nextConnection();
        b.publish(SseMessage.of("before"), "x");
        assertThat(c.next().data()).isEqualTo("before");
        subscriptions.take().cancel();
        b.publish(SseMessage.of("after"), "x");
        conn.send(SseMessage.of("direct"));
        assertThat(c.next().data()).isEqualTo("direct");
        assertThat(b.stats().connections()).isZero();
    }

    @Test
    void closeSendsAFinalEventWithARetryHintThenCloses() throws Exception {
        Broadcaster b = Broadcaster.builder().shutdownRetry(Duration.ofMillis(2500)).build();
        InetSocketAddress address = serve(b);
        RawHttp raw = closing(RawHttp.get(address, "/sse?t=x", "HTTP/1.1"));
        SseConnection conn = nextConnection();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        conn.onClose(reasons::add);
        b.publish(SseMessage.builder().id("last").data("bye soon").build(), "x");
        assertThat(b.isClosed()).isFalse();
        b.close();
        assertThat(b.isClosed()).isTrue();
        assertThat(raw.readToEnd()).isEqualTo("id: last\ndata: bye soon\n\nevent: shutdown\ndata:\nretry: 2500\n\n");
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.SHUTDOWN);
        assertThatThrownBy(() -> b.publish(SseMessage.of("late"), "x")).isInstanceOf(IllegalStateException.class);
        b.close();
    }

    @Test
    void validation() throws Exception {
        Broadcaster b = closing(Broadcaster.create());
        assertThatThrownBy(() -> b.publish(SseMessage.of("x"))).hasMessage("publish needs at least one topic");
        assertThatThrownBy(() -> b.publish(SseMessage.of("x"), "")).hasMessage("topics must not be empty strings");
        assertThatThrownBy(() -> Broadcaster.builder().heartbeat(Duration.ZERO).build()).hasMessage("heartbeat must be positive: PT0S");
        assertThatThrownBy(() -> Broadcaster.builder().maxQueuedBytes(0).build()).hasMessage("maxQueuedBytes must be at least 1: 0");
        assertThatThrownBy(() -> Broadcaster.builder().history(0, 1, Duration.ofSeconds(1)).build())
                .hasMessage("history maxEvents must be at least 1: 0");
        InetSocketAddress address = serve(b);
        try (RawHttp client = RawHttp.get(address, "/sse?t=x", "HTTP/1.1")) {
            assertThat(client.statusLine).isEqualTo("HTTP/1.1 200 OK");
            SseConnection conn = nextConnection();
            assertThatThrownBy(() -> b.subscribe(conn, "y")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("this connection is subscribed already");
            assertThatThrownBy(() -> b.subscribe(conn, List.of())).hasMessage("subscribe needs at least one topic selector");
        }
        assertThat(new String(SseMessage.of("x").encode(), UTF_8)).isEqualTo("data: x\n\n");
    }
}
