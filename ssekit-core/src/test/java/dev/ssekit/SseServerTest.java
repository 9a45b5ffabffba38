package dev.ssekit;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.Recorder;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Sse#start} on the JDK's HTTP server, observed over real sockets. */
@Timeout(60)
class SseServerTest {

    /** Starts a server whose /sse handler opens a connection and hands it to the test. */
    private static final class Harness implements AutoCloseable {
        final BlockingQueue<SseConnection> connections = new ArrayBlockingQueue<>(16);
        final TestServer server = new TestServer("/sse", exchange -> connections.add(Sse.start(exchange)));

        SseConnection next() throws InterruptedException {
            SseConnection c = connections.poll(10, TimeUnit.SECONDS);
            assertThat(c).as("server got a connection").isNotNull();
            return c;
        }

        @Override
        public void close() {
            server.close();
        }
    }

    @Test
    void headersArriveAtOnceAndEachSendIsOnTheSocketWhenItReturns() throws Exception {
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1")) {
            // the head was read before the server sent anything
            SseConnection conn = h.next();
            assertThat(client.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(client.headers).containsEntry("content-type", "text/event-stream; charset=utf-8")
                    .containsEntry("cache-control", "no-cache")
                    .containsEntry("connection", "keep-alive")
                    .containsEntry("x-accel-buffering", "no")
                    .containsEntry("transfer-encoding", "chunked")
                    .doesNotContainKey("content-length")
                    .doesNotContainKey("content-encoding");
            for (int i = 0; i < 3; i++) {
                conn.send(SseMessage.builder().id(String.valueOf(i)).event("tick").data("n=" + i).build());
                // nothing else is sent: the event is readable because send() flushed it
                assertThat(client.readEvent()).isEqualTo("id: " + i + "\nevent: tick\ndata: n=" + i + "\n\n");
            }
            conn.close();
        }
    }

    @Test
    void theReferenceTestTranscript() throws Exception {
        // vlib/veb/sse/sse_test.v: three pings, then close(); ssekit leaves out the invalid `retry: -1`
        TestServer server = new TestServer("/sse", exchange -> {
            SseConnection conn = Sse.start(exchange);
            for (int i = 0; i < 3; i++) {
                conn.send(SseMessage.of("ping"));
            }
            conn.close();
        });
        try (server; RawHttp client = RawHttp.get(server.address(), "/sse", "HTTP/1.1")) {
            assertThat(client.readToEnd()).isEqualTo(
                    "data: ping\n\ndata: ping\n\ndata: ping\n\nevent: close\ndata: Closing the connection\n\n");
        }
    }

    @Test
    void withTheCloseEventOffCloseEndsTheResponseRightAfterTheEventsSent() throws Exception {
        // a protocol whose clients must see no event the application did not send (the Mercure hub)
        SseOptions quiet = SseOptions.builder().closeEvent(false).build();
        assertThat(SseOptions.defaults().closeEvent()).as("the default keeps V's close event").isTrue();
        BlockingQueue<CloseReason> reasons = new ArrayBlockingQueue<>(1);
        TestServer server = new TestServer("/sse", exchange -> {
            SseConnection conn = Sse.start(exchange, quiet);
            conn.onClose(reasons::add);
            conn.send(SseMessage.of("ping"));
            conn.close();
        });
        try (server; RawHttp client = RawHttp.get(server.address(), "/sse", "HTTP/1.1")) {
            assertThat(client.readToEnd()).as("a graceful end (chunked trailer read), no close event").isEqualTo("data: ping\n\n");
            assertThat(reasons.poll(10, TimeUnit.SECONDS)).isEqualTo(CloseReason.CLOSED);
        }
    }

    @Test
    void dataCannotInjectFieldsOverTheWire() throws Exception {
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1")) {
            SseConnection conn = h.next();
            conn.send(SseMessage.of("a\nevent: evil\r\nid: 666\rb\n\ndata: c"));
            String wire = client.readEvent();
            Recorder r = new Recorder();
            SseParser.create(r).feed(wire.getBytes(UTF_8));
            assertThat(r.transcript).containsExactly(
                    Recorder.event("message", "", "a\nevent: evil\nid: 666\nb\n\ndata: c"));
            conn.close();
        }
    }

    @Test
    void commentsAreSent() throws Exception {
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1")) {
            SseConnection conn = h.next();
            conn.comment("keep-alive");
            conn.send(SseMessage.of("x"));
            assertThat(client.readEvent()).isEqualTo(": keep-alive\ndata: x\n\n");
            conn.close();
        }
    }

    @Test
    void concurrentSendsNeverInterleave() throws Exception {
        int threads = 8;
        int perThread = 500;
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1")) {
            SseConnection conn = h.next();
            List<SseEvent> received = Collections.synchronizedList(new ArrayList<>());
            SseParser parser = SseParser.create(received::add);
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                try {
                    byte[] buf = new byte[8192];
                    InputStream in = new InputStream() {
                        @Override
                        public int read() throws IOException {
                            return client.readBody();
                        }
                    };
                    while (received.size() < threads * perThread) {
                        int b = in.read();
                        if (b < 0) {
                            break;
                        }
                        buf[0] = (byte) b;
                        parser.feed(buf, 0, 1);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            // long, multi-line events make a torn write visible
                            String body = ("t" + thread + " i" + i + " ").repeat(20);
                            conn.send(SseMessage.builder().event("t" + thread).data(body + "\n" + body).build());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(30, TimeUnit.SECONDS);
                }
            }
            reader.get(30, TimeUnit.SECONDS);
            assertThat(received).hasSize(threads * perThread);
            Map<String, Integer> nextIndex = new ConcurrentHashMap<>();
            for (SseEvent e : received) {
                int thread = Integer.parseInt(e.type().substring(1));
                int i = nextIndex.merge(e.type(), 1, Integer::sum) - 1;
                String body = ("t" + thread + " i" + i + " ").repeat(20);
                assertThat(e.data()).isEqualTo(body + "\n" + body);
            }
            conn.close();
        }
    }

    @Test
    void aClientThatLeftIsNoticedOnSendAndClosesOnce() throws Exception {
        try (Harness h = new Harness()) {
            RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1");
            SseConnection conn = h.next();
            List<CloseReason> reasons = new CopyOnWriteArrayList<>();
            conn.onClose(reasons::add);
            client.close();

            java.util.concurrent.atomic.AtomicInteger sends = new java.util.concurrent.atomic.AtomicInteger();
            IOException failure = await("send fails once the socket reports the peer gone").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20)).until(() -> {
                        try {
                            conn.send(SseMessage.of("are you there?"));
                            sends.incrementAndGet();
                            return null;
                        } catch (IOException e) {
                            return e;
                        }
                    }, java.util.Objects::nonNull);
            assertThat(failure).as("send fails once the socket reports the peer gone (after %d sends)", sends.get())
                    .isNotNull();
            assertThat(conn.isOpen()).isFalse();
            assertThat(reasons).containsExactly(CloseReason.CLIENT_GONE);

            assertThatThrownBy(() -> conn.send(SseMessage.of("again"))).isInstanceOf(IOException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> conn.comment("again")).isInstanceOf(IOException.class);
            conn.close();
            AtomicReference<CloseReason> late = new AtomicReference<>();
            conn.onClose(late::set);
            assertThat(late.get()).isEqualTo(CloseReason.CLIENT_GONE);
            assertThat(reasons).containsExactly(CloseReason.CLIENT_GONE);
        }
    }

    @Test
    void closeIsIdempotentAndListenersRunOnceEach() throws Exception {
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1")) {
            SseConnection conn = h.next();
            List<String> calls = new CopyOnWriteArrayList<>();
            conn.onClose(r -> {
                calls.add("first " + r);
                throw new IllegalStateException("a broken listener must not stop the others");
            });
            conn.onClose(r -> calls.add("second " + r));
            assertThat(conn.isOpen()).isTrue();
            conn.close();
            conn.close();
            assertThat(conn.isOpen()).isFalse();
            assertThat(calls).containsExactly("first CLOSED", "second CLOSED");
            assertThat(client.readToEnd()).isEqualTo("event: close\ndata: Closing the connection\n\n");
            assertThatThrownBy(() -> conn.send(SseMessage.of("late"))).isInstanceOf(IOException.class);
        }
    }

    @Test
    void lastEventIdIsReadAsUtf8() throws Exception {
        try (Harness h = new Harness()) {
            assertThat(lastEventIdSeen(h, "Last-Event-ID: 42")).contains("42");
            assertThat(lastEventIdSeen(h, "Last-Event-ID: é☃")).contains("é☃");
            assertThat(lastEventIdSeen(h, "Last-Event-ID:")).isEmpty();
            assertThat(lastEventIdSeen(h)).isEqualTo(Optional.empty());
        }
    }

    private static Optional<String> lastEventIdSeen(Harness h, String... headerLines) throws Exception {
        try (RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.1", headerLines)) {
            assertThat(client.statusLine).isEqualTo("HTTP/1.1 200 OK");
            SseConnection c = h.next();
            c.close();
            return c.lastEventId();
        }
    }

    @Test
    void http10GetsACloseDelimitedStreamWithoutKeepAlive() throws Exception {
        try (Harness h = new Harness(); RawHttp client = RawHttp.get(h.server.address(), "/sse", "HTTP/1.0")) {
            SseConnection conn = h.next();
            assertThat(client.statusLine).startsWith("HTTP/1.1 200");
            assertThat(client.headers).containsEntry("content-type", "text/event-stream; charset=utf-8")
                    .doesNotContainEntry("connection", "keep-alive")
                    .doesNotContainKey("transfer-encoding");
            conn.send(SseMessage.of("one"));
            conn.close();
            assertThat(client.readToEnd()).isEqualTo("data: one\n\nevent: close\ndata: Closing the connection\n\n");
        }
    }

    @Test
    void aJavaHttpClientReadsTheStreamWithTheSharedParser() throws Exception {
        try (Harness h = new Harness(); HttpClient http = HttpClient.newHttpClient()) {
            CompletableFuture<HttpResponse<InputStream>> response = http.sendAsync(
                    HttpRequest.newBuilder(h.server.uri("/sse")).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            SseConnection conn = h.next();
            HttpResponse<InputStream> r = response.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            conn.send(SseMessage.builder().id("1").event("greeting").data("héllo\nwörld 😀").retry(Duration.ofSeconds(2)).build());
            conn.send(SseMessage.of(""));
            conn.close();
            Recorder rec = new Recorder();
            SseParser parser = SseParser.create(rec);
            try (InputStream in = r.body()) {
                parser.feed(in.readAllBytes());
            }
            assertThat(rec.transcript).containsExactly(
                    "retry 2000", Recorder.event("greeting", "1", "héllo\nwörld 😀"),
                    Recorder.event("message", "1", ""),
                    Recorder.event("close", "1", "Closing the connection"));
        }
    }

    @Test
    void startFailsClearlyWhenTheResponseWasAlreadyStarted() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        TestServer server = new TestServer("/sse", exchange -> {
            exchange.sendResponseHeaders(204, -1);
            try {
                Sse.start(exchange);
            } catch (IOException e) {
                thrown.set(e);
            } finally {
                done.countDown();
            }
        });
        try (server; RawHttp client = RawHttp.get(server.address(), "/sse", "HTTP/1.1")) {
            assertThat(client.statusLine).isEqualTo("HTTP/1.1 204 No Content");
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(thrown.get()).isInstanceOf(IOException.class);
        }
    }
}
