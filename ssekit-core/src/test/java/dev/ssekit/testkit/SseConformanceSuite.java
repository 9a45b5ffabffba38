package dev.ssekit.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.TopicSelector;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every ssekit server adapter must show, written once and run against each server
 * (JDK, Jetty, Tomcat, Netty) by a subclass that starts it: the codec over the wire, close once,
 * disconnect detection, concurrent senders, {@code Last-Event-ID}, broadcaster replay and heartbeats.
 */
@Timeout(60)
public abstract class SseConformanceSuite {

    /** Receives each SSE request of the server under test, on a thread that may block. */
    @FunctionalInterface
    public interface ConnectionHandler {
        /**
         * Handles one stream.
         *
         * @param connection the open connection
         * @param query the request's raw query string, empty when none
         * @throws Exception anything; the suite's assertions see its effects
         */
        void handle(SseConnection connection, String query) throws Exception;
    }

    /** A running server under test, answering {@code GET /sse?…} with the handler. */
    public interface Fixture extends AutoCloseable {
        /**
         * Where it listens.
         *
         * @return a loopback address
         */
        InetSocketAddress address();

        /** Stops the server. */
        @Override
        void close();
    }

    /**
     * Starts the server under test.
     *
     * @param handler what each SSE request runs
     * @return the running server
     * @throws Exception if it cannot start
     */
    protected abstract Fixture start(ConnectionHandler handler) throws Exception;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** For subclasses: nothing to set up. */
    protected SseConformanceSuite() {
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private Fixture serve(ConnectionHandler h) throws Exception {
        Fixture f = start(h);
        closeables.add(f);
        return f;
    }

    private RawHttp get(Fixture f, String query, String... headers) throws IOException {
        RawHttp c = RawHttp.get(f.address(), "/sse" + (query.isEmpty() ? "" : "?" + query), "HTTP/1.1", headers);
        closeables.add(c);
        return c;
    }

    @Test
    void responseHeadAndExactBytes() throws Exception {
        Fixture f = serve((conn, q) -> {
            conn.send(SseMessage.builder().id("1").event("greeting").data("héllo\nwörld 😀\r\nthird").build());
            conn.comment("keep-alive");
            conn.send(SseMessage.of(""));
            conn.send(SseMessage.builder().retry(Duration.ofSeconds(3)).build());
            conn.close();
        });
        RawHttp c = get(f, "");
        assertThat(c.statusLine).startsWith("HTTP/1.1 200");
        String type = c.headers.get("content-type").toLowerCase(Locale.ROOT).replace(" ", "");
        assertThat(type).isEqualTo("text/event-stream;charset=utf-8");
        assertThat(c.headers).containsEntry("cache-control", "no-cache").containsEntry("x-accel-buffering", "no")
                .doesNotContainKey("content-length").doesNotContainKey("content-encoding");
        assertThat(c.readToEnd()).isEqualTo("id: 1\nevent: greeting\ndata: héllo\ndata: wörld 😀\ndata: third\n\n"
                + ": keep-alive\ndata:\n\nretry: 3000\n\nevent: close\ndata: Closing the connection\n\n");
    }

    @Test
    void eachSendIsOnTheWireWhenItReturns() throws Exception {
        BlockingQueue<CountDownLatch> steps = new LinkedBlockingQueue<>();
        BlockingQueue<String> late = new LinkedBlockingQueue<>();
        Fixture f = serve((conn, q) -> {
            for (int i = 0; i < 3; i++) {
                CountDownLatch read = new CountDownLatch(1);
                conn.send(SseMessage.of("n" + i));
                steps.add(read);
                // nothing more is written until the client has read this event
                if (!read.await(5, TimeUnit.SECONDS)) {
                    late.add("event n" + i + " did not reach the client after send() returned");
                }
            }
            conn.close();
        });
        RawHttp c = get(f, "");
        for (int i = 0; i < 3; i++) {
            CountDownLatch step = steps.poll(10, TimeUnit.SECONDS);
            assertThat(step).isNotNull();
            assertThat(c.readEvent()).isEqualTo("data: n" + i + "\n\n");
            step.countDown();
        }
        assertThat(late).isEmpty();
    }

    @Test
    void closeHappensOnceAndListenersRunOnce() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        Fixture f = serve((conn, q) -> {
            AtomicInteger calls = new AtomicInteger();
            conn.onClose(r -> {
                calls.incrementAndGet();
                results.add(r);
            });
            conn.close();
            conn.close();
            try {
                conn.send(SseMessage.of("late"));
                results.add("no exception");
            } catch (IOException expected) {
                results.add("send after close: IOException");
            }
            results.add(calls.get());
        });
        RawHttp c = get(f, "");
        assertThat(c.readToEnd()).isEqualTo("event: close\ndata: Closing the connection\n\n");
        assertThat(results.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.CLOSED);
        assertThat(results.poll(10, TimeUnit.SECONDS)).isEqualTo("send after close: IOException");
        assertThat(results.poll(10, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test
    void aClientThatLeavesIsNoticedAndClosesOnce() throws Exception {
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        BlockingQueue<String> sendResult = new LinkedBlockingQueue<>();
        CountDownLatch connected = new CountDownLatch(1);
        Fixture f = serve((conn, q) -> {
            conn.onClose(reasons::add);
            connected.countDown();
            try {
                for (int i = 0; i < 500; i++) {
                    conn.send(SseMessage.of("are you there " + i));
                    Thread.sleep(20);
                }
                sendResult.add("never failed");
            } catch (IOException e) {
                sendResult.add("IOException");
            }
        });
        RawHttp c = get(f, "");
        assertThat(connected.await(10, TimeUnit.SECONDS)).isTrue();
        c.close();
        assertThat(sendResult.poll(15, TimeUnit.SECONDS)).isEqualTo("IOException");
        assertThat(reasons.poll(1, TimeUnit.SECONDS)).isEqualTo(CloseReason.CLIENT_GONE);
        assertThat(reasons).isEmpty();
    }

    @Test
    void concurrentSendsNeverInterleave() throws Exception {
        int threads = 8;
        int each = 200;
        Fixture f = serve((conn, q) -> {
            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                senders.add(Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            String body = ("t" + thread + "-" + i + " ").repeat(30);
                            conn.send(SseMessage.builder().event("t" + thread).data(body + "\n" + body).build());
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (Thread s : senders) {
                s.join();
            }
            conn.close();
        });
        RawHttp c = get(f, "");
        List<SseEvent> events = new ArrayList<>();
        SseParser.create(events::add).feed(c.readToEnd().getBytes(UTF_8));
        assertThat(events).hasSize(threads * each + 1);
        int[] next = new int[threads];
        for (SseEvent e : events.subList(0, threads * each)) {
            int t = Integer.parseInt(e.type().substring(1));
            String body = ("t" + t + "-" + next[t]++ + " ").repeat(30);
            assertThat(e.data()).isEqualTo(body + "\n" + body);
        }
    }

    @Test
    void lastEventIdIsReadAsUtf8() throws Exception {
        BlockingQueue<String> ids = new LinkedBlockingQueue<>();
        Fixture f = serve((conn, q) -> {
            ids.add(conn.lastEventId().orElse("<none>"));
            conn.close();
        });
        get(f, "", "Last-Event-ID: é☃-42").readToEnd();
        get(f, "").readToEnd();
        assertThat(ids.poll(10, TimeUnit.SECONDS)).isEqualTo("é☃-42");
        assertThat(ids.poll(10, TimeUnit.SECONDS)).isEqualTo("<none>");
    }

    @Test
    void broadcasterReplaysAndSendsHeartbeatsOverThisServer() throws Exception {
        ManualScheduler time = new ManualScheduler();
        Broadcaster hub = Broadcaster.builder().scheduler(time).ticker(time).heartbeat(Duration.ofSeconds(10)).build();
        closeables.add(hub);
        BlockingQueue<SseConnection> subscribed = new LinkedBlockingQueue<>();
        Fixture f = serve((conn, q) -> {
            hub.subscribe(conn, TopicSelector.glob(q.substring("topic=".length())));
            subscribed.add(conn);
        });
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(hub.publish(SseMessage.of("old " + i), "room/1"));
        }
        RawHttp c = get(f, "topic=room/*", "Last-Event-ID: " + ids.get(2));
        assertThat(subscribed.poll(10, TimeUnit.SECONDS)).isNotNull();
        hub.publish(SseMessage.of("live"), "room/1");
        hub.publish(SseMessage.of("elsewhere"), "hall");
        assertThat(c.readEvent()).isEqualTo("id: " + ids.get(3) + "\ndata: old 3\n\n");
        assertThat(c.readEvent()).isEqualTo("id: " + ids.get(4) + "\ndata: old 4\n\n");
        assertThat(c.readEvent()).startsWith("id: ").endsWith("\ndata: live\n\n");
        // the client has the bytes; wait until the server finished its side of those writes too, so
        // the sweeps below see an idle subscriber
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(hub.stats().delivered()).isEqualTo(3));
        time.advance(Duration.ofSeconds(5));
        time.advance(Duration.ofSeconds(5));
        hub.publish(SseMessage.of("after heartbeat"), "room/2");
        assertThat(c.readEvent()).startsWith(":\nid: ").endsWith("\ndata: after heartbeat\n\n");
    }

    @Test
    void anOversizedRequestHeadIsRefusedBeforeAnyStreamStarts() throws Exception {
        java.util.concurrent.atomic.AtomicInteger streams = new java.util.concurrent.atomic.AtomicInteger();
        Fixture f = serve((conn, q) -> streams.incrementAndGet());
        // 1 MiB of one header: over every server's limit (Netty 8 KiB, Jetty 8 KiB, Tomcat 8 KiB, JDK 384 KiB)
        String status;
        try (RawHttp c = RawHttp.get(f.address(), "/sse", "HTTP/1.1", "X-Big: " + "a".repeat(1 << 20))) {
            status = c.statusLine;
        } catch (IOException resetWhileSending) {
            status = "(connection closed: " + resetWhileSending.getMessage() + ")";
        }
        assertThat(status).as("a 4xx answer or a closed connection, never a stream").doesNotStartWith("HTTP/1.1 2");
        // and the server still serves others
        RawHttp ok = get(f, "");
        assertThat(ok.statusLine).startsWith("HTTP/1.1 200");
        // the handler runs just after the response head
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(streams).as("streams started: the second request's only").hasValue(1));
    }

    @Test
    void sendAfterTheResponseEndedFails() throws Exception {
        BlockingQueue<Object> result = new LinkedBlockingQueue<>();
        Fixture f = serve((conn, q) -> {
            conn.close();
            assertThatThrownBy(() -> conn.comment("x")).isInstanceOf(IOException.class);
            result.add(conn.isOpen());
        });
        get(f, "").readToEnd();
        assertThat(result.poll(10, TimeUnit.SECONDS)).isEqualTo(false);
    }
}
