package dev.ssekit.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.Subscription;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.H2cCheck;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.StuckWrites;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The broadcaster's non-blocking path (no thread per subscriber, writes batched per event loop),
 * which only Netty uses, over real sockets.
 */
@Timeout(120)
class NettyBroadcasterTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<SseConnection> connections = new LinkedBlockingQueue<>();
    private final BlockingQueue<Subscription> subscriptions = new LinkedBlockingQueue<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private NettySseServer serve(Broadcaster hub) {
        NettySseServer server = NettySseServer.builder().route("/sse", (request, conn) -> {
            subscriptions.add(hub.subscribe(conn, "x"));
            connections.add(conn);
        }).start();
        closeables.add(server);
        return server;
    }

    private RawHttp client(NettySseServer server) throws IOException {
        RawHttp c = RawHttp.get(server.address(), "/sse", "HTTP/1.1");
        closeables.add(c);
        return c;
    }

    private static List<String> read(RawHttp c, int n) throws IOException {
        List<SseEvent> events = new ArrayList<>();
        SseParser p = SseParser.create(events::add);
        byte[] one = new byte[1];
        while (events.size() < n) {
            int b = c.readBody();
            assertThat(b).as("stream open").isNotNegative();
            one[0] = (byte) b;
            p.feed(one, 0, 1);
        }
        return events.stream().map(SseEvent::data).toList();
    }

    @Test
    void everySubscriberGetsEveryEventInOrder() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        NettySseServer server = serve(hub);
        List<RawHttp> clients = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            clients.add(client(server));
            assertThat(connections.poll(10, TimeUnit.SECONDS)).as("connection %d", i).isNotNull();
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            expected.add("e" + i);
            hub.publish(SseMessage.of("e" + i), "x");
        }
        for (RawHttp c : clients) {
            assertThat(read(c, 200)).isEqualTo(expected);
        }
        assertThat(hub.stats().delivered()).isEqualTo(300 * 200);
    }

    /**
     * Events reach Netty subscribers through their event loop's delivery group, after publish has
     * returned: subscribers joining meanwhile, fresh or resuming, still get a gapless, ordered tail.
     */
    @Test
    void subscribersJoiningWhileEventsArePublishedGetEveryLaterEventInOrder() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        NettySseServer server = serve(hub);
        int total = 3000;
        int joiners = 60;
        java.util.concurrent.CountDownLatch joined = new java.util.concurrent.CountDownLatch(joiners);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread publisher = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < total; i++) {
                    hub.publish(SseMessage.of("e" + i), "x");
                    if (i % 20 == 0) {
                        Thread.sleep(1); // clients keep joining meanwhile
                    }
                }
                assertThat(joined.await(60, TimeUnit.SECONDS)).isTrue();
                hub.publish(SseMessage.of("end"), "x"); // after every client joined: each one's last event
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        List<RawHttp> clients = new ArrayList<>();
        List<Integer> firstExpected = new ArrayList<>();
        for (int i = 0; i < joiners; i++) {
            String last = i % 2 == 0 ? hub.lastEventId().orElse("") : "";
            if (last.isEmpty()) {
                clients.add(client(server));
                firstExpected.add(-1); // joins somewhere: whatever comes first, the rest must follow it
            } else {
                RawHttp c = RawHttp.get(server.address(), "/sse", "HTTP/1.1", "Last-Event-ID: " + last);
                closeables.add(c);
                clients.add(c);
                firstExpected.add(Integer.parseInt(last.substring(last.lastIndexOf('-') + 1))); // sequence n is "e" + (n - 1)
            }
            assertThat(connections.poll(10, TimeUnit.SECONDS)).as("connection %d", i).isNotNull();
            joined.countDown();
        }
        publisher.join();
        assertThat(failure).as("the publisher").hasValue(null);
        int midStream = 0;
        for (int i = 0; i < clients.size(); i++) {
            List<String> got = new ArrayList<>();
            SseParser p = SseParser.create(e -> got.add(e.data()));
            while (got.isEmpty() || !got.getLast().equals("end")) {
                p.feed(clients.get(i).readEvent().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            int first = firstExpected.get(i) >= 0 ? firstExpected.get(i) : got.getFirst().equals("end") ? total
                    : Integer.parseInt(got.getFirst().substring(1));
            List<String> expected = new ArrayList<>();
            for (int k = first; k < total; k++) {
                expected.add("e" + k);
            }
            expected.add("end");
            assertThat(got).as("client %d", i).isEqualTo(expected);
            midStream += first > 0 && first < total ? 1 : 0;
        }
        assertThat(midStream).as("clients that joined while events were being published").isPositive();
    }

    /**
     * A fast publisher meets an event loop that is held up (a slow handler on it): the loop's
     * delivery group takes its backlog and no more, the publisher waits instead of the broadcaster
     * buffering without bound, and once the loop runs again every subscriber gets every event, in
     * order.
     */
    @Test
    void aFastPublisherWaitsForAHeldUpEventLoopAndNothingIsLost() throws Exception {
        int backlog = 16;
        int total = 600;
        Broadcaster hub = Broadcaster.builder().deliveryBacklog(backlog).build();
        closeables.add(hub);
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        closeables.add(release::countDown); // never leave the loop held, even when an assertion fails
        NettySseServer server = NettySseServer.builder().eventLoops(1).route("/sse", (request, conn) -> {
            subscriptions.add(hub.subscribe(conn, "x"));
            connections.add(conn);
        }).fallback(() -> List.of(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) throws InterruptedException {
                io.netty.util.ReferenceCountUtil.release(msg);
                if (msg instanceof io.netty.handler.codec.http.HttpRequest) {
                    holding.countDown();
                    release.await(60, TimeUnit.SECONDS); // a handler that blocks its event loop
                }
            }
        })).start();
        closeables.add(server);
        List<RawHttp> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(client(server));
            assertThat(connections.poll(10, TimeUnit.SECONDS)).as("connection %d", i).isNotNull();
        }
        try (java.net.Socket blocker = new java.net.Socket(server.address().getAddress(), server.address().getPort())) {
            blocker.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertThat(holding.await(10, TimeUnit.SECONDS)).as("the only event loop is held").isTrue();
            String padding = "p".repeat(1000);
            java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
            Thread publisher = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < total; i++) {
                    hub.publish(SseMessage.of("e" + i + " " + padding), "x");
                    published.incrementAndGet();
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> hub.isBacklogged()
                    && publisher.getState() == Thread.State.TIMED_WAITING);
            assertThat(published.get()).as("publishes returned while the loop is held: its backlog").isEqualTo(backlog);
            assertThat(hub.stats().backlog()).isEqualTo(backlog);
            assertThat(hub.stats().queuedBytes()).as("nothing piles up in subscribers' queues either").isZero();
            release.countDown();
            publisher.join(60_000);
            assertThat(published.get()).isEqualTo(total);
        }
        for (int i = 0; i < clients.size(); i++) {
            List<String> got = read(clients.get(i), total);
            for (int k = 0; k < total; k++) {
                assertThat(got.get(k)).as("client %d event %d", i, k).startsWith("e" + k + " ");
            }
        }
        assertThat(hub.stats().evictions().values()).as("no healthy subscriber evicted").containsOnly(0L);
        assertThat(hub.isBacklogged()).isFalse();
    }

    @Test
    void theShutdownEventFollowsEveryEventPublishedBeforeClose() throws Exception {
        Broadcaster hub = Broadcaster.create();
        NettySseServer server = serve(hub);
        List<RawHttp> clients = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            clients.add(client(server));
            assertThat(connections.poll(10, TimeUnit.SECONDS)).as("connection %d", i).isNotNull();
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            hub.publish(SseMessage.of("e" + i), "x");
            expected.add("message e" + i);
        }
        hub.close();
        expected.add("shutdown ");
        for (RawHttp c : clients) {
            assertThat(c.events(501)).extracting(e -> e.type() + " " + e.data()).isEqualTo(expected);
            assertThat(c.readBody()).as("the stream ends after the shutdown event").isEqualTo(-1);
        }
    }

    @Test
    void aClientsFinClosesItsConnectionWithoutAnyWrite() throws Exception {
        Broadcaster hub = Broadcaster.create();
        closeables.add(hub);
        NettySseServer server = serve(hub);
        RawHttp c = client(server);
        SseConnection conn = connections.poll(10, TimeUnit.SECONDS);
        assertThat(conn).as("the connection").isNotNull();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        conn.onClose(reasons::add);
        c.close();
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.CLIENT_GONE);
        assertThat(hub.stats().connections()).isZero();
    }

    @Test
    void aSlowConsumerIsEvictedWhileOthersKeepReceiving() throws Exception {
        Broadcaster hub = Broadcaster.builder().maxQueuedBytes(256 * 1024).build();
        closeables.add(hub);
        NettySseServer server = serve(hub);
        RawHttp stuck = client(server);
        stuck.socket.setReceiveBufferSize(4096);
        SseConnection stuckConn = connections.poll(10, TimeUnit.SECONDS);
        assertThat(stuckConn).as("the stuck connection").isNotNull();
        subscriptions.take();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        stuckConn.onClose(reasons::add);
        RawHttp healthy = client(server);
        assertThat(connections.poll(10, TimeUnit.SECONDS)).as("the healthy connection").isNotNull();
        Subscription healthySub = subscriptions.take();
        String chunk = "x".repeat(16 * 1024);
        List<String> sent = new ArrayList<>();
        BlockingQueue<List<String>> got = new LinkedBlockingQueue<>();
        int n = 0;
        while (reasons.isEmpty() && n < 20_000) {
            hub.publish(SseMessage.of(chunk + n), "x");
            sent.add(chunk + n);
            n++;
            if (n % 16 == 0) {
                List<String> batch = read(healthy, 16); // keep the healthy one reading
                assertThat(batch).as("the healthy subscriber's events %d to %d", n - 16, n - 1).isEqualTo(sent.subList(n - 16, n));
                got.add(batch);
            }
            while (healthySub.queuedBytes() > 128 * 1024) {
                Thread.sleep(1);
            }
        }
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.SLOW_CONSUMER);
        hub.publish(SseMessage.of("after"), "x");
        sent.add("after");
        List<String> all = new ArrayList<>();
        got.forEach(all::addAll);
        all.addAll(read(healthy, sent.size() - all.size()));
        assertThat(all).isEqualTo(sent);
        assertThat(hub.stats().evictions()).containsEntry(CloseReason.SLOW_CONSUMER, 1L);
    }

    @Test
    void aWriteThatOutlivesTheDeadlineIsAbortedAndEvicted() throws Exception {
        ManualScheduler time = new ManualScheduler();
        Broadcaster hub = Broadcaster.builder().scheduler(time).ticker(time).writeTimeout(Duration.ofSeconds(20))
                .heartbeat(Duration.ofSeconds(60)).maxQueuedBytes(1L << 40).build();
        closeables.add(hub);
        NettySseServer server = serve(hub);
        RawHttp stuck = client(server);
        stuck.socket.setReceiveBufferSize(4096);
        SseConnection conn = connections.poll(10, TimeUnit.SECONDS);
        assertThat(conn).as("the connection").isNotNull();
        subscriptions.take();
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        conn.onClose(reasons::add);
        StuckWrites.publishUntilStuck(hub, "x", stuck.socket);
        StuckWrites.awaitStuckWrite(hub);
        time.advance(Duration.ofSeconds(10));
        time.advance(Duration.ofSeconds(20));
        assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.WRITE_TIMEOUT);
        // Netty aborts the stuck write: the server's side of the connection is closed at once
        // (a graceful end would queue behind the stuck bytes and keep it established)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                H2cCheck.establishedConnections(server.address().getPort())).as("server-side connections still established").isZero());
        assertThat(hub.stats().connections()).isZero();
    }
}
