package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.codec.SseEvent;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue #30: one streaming-API response read with {@link SseBodyHandlers}, against a local server
 * (Jetty, HTTP/1.1 and h2c on one port) speaking both LLM stream styles.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StreamingApiTest {

    static final String PROMPT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Grüße ✓\"}]}";

    private LlmServer server;
    private HttpClient client;

    @BeforeEach
    void setUp() throws Exception {
        server = new LlmServer();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.shutdownNow(); // not close(): that waits for a stream a failed test left open
        }
        server.close();
    }

    /** A client speaking {@code version}; for h2 the first request (a GET) upgrades the connection. */
    private HttpClient client(HttpClient.Version version) throws Exception {
        client = HttpClient.newBuilder().version(version).build();
        if (version == HttpClient.Version.HTTP_2) {
            HttpResponse<Void> upgrade = client.send(HttpRequest.newBuilder(server.uri("/status/404")).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(upgrade.version()).isEqualTo(HttpClient.Version.HTTP_2);
            server.requests.clear();
        }
        return client;
    }

    private HttpRequest post(String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(PROMPT)).build();
    }

    /** The next request the server received, waiting 10 s at most. */
    private LlmServer.Received takeRequest() throws InterruptedException {
        LlmServer.Received r = server.requests.poll(10, TimeUnit.SECONDS);
        assertThat(r).as("a request within 10 s").isNotNull();
        return r;
    }

    /**
     * No request follows the one taken (a client that reconnected at the end of the body would
     * send one at once): a bounded wait of 300 ms on the server's queue of requests.
     */
    private void assertNoSecondRequest(String path) throws InterruptedException {
        assertThat(server.requests.poll(300, TimeUnit.MILLISECONDS)).as("no second request after the end").isNull();
        assertThat(server.count(path)).as("requests to " + path).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = HttpClient.Version.class, names = {"HTTP_1_1", "HTTP_2"})
    void chatCompletionStreamReadWithOfEventsUntilDone(HttpClient.Version version) throws Exception {
        HttpResponse<Stream<SseEvent>> response = client(version).send(post("/v1/chat/completions"), SseBodyHandlers.ofEvents());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.version()).isEqualTo(version);
        List<String> data;
        try (Stream<SseEvent> events = response.body()) {
            data = events.map(SseEvent::data).toList();
        }
        List<String> expected = new ArrayList<>();
        for (String c : LlmServer.CHAT_CHUNKS) {
            expected.add("{\"choices\":[{\"delta\":{\"content\":\"" + c + "\"}}]}");
        }
        expected.add("[DONE]");
        assertThat(data).as("every event, in order, then the end of the body").isEqualTo(expected);
        LlmServer.Received r = takeRequest();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.version()).isEqualTo(version == HttpClient.Version.HTTP_2 ? "HTTP/2.0" : "HTTP/1.1");
        assertThat(r.body()).as("the POST body, byte for byte").isEqualTo(PROMPT.getBytes(UTF_8));
        assertNoSecondRequest("/v1/chat/completions");
    }

    @ParameterizedTest
    @EnumSource(value = HttpClient.Version.class, names = {"HTTP_1_1", "HTTP_2"})
    void namedEventsWithAnErrorInTheMiddleReadWithOfPublisher(HttpClient.Version version) throws Exception {
        HttpResponse<Flow.Publisher<SseEvent>> response = client(version).send(post("/v1/messages"), SseBodyHandlers.ofPublisher());
        Collector c = new Collector(Long.MAX_VALUE);
        response.body().subscribe(c);
        assertThat(c.done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.error.get()).isNull();
        assertThat(c.events.stream().map(e -> e.type() + " " + e.data()).toList()).containsExactly(
                "message_start {\"type\":\"message_start\"}",
                "content_block_delta {\"delta\":{\"text\":\"Hi\"}}",
                "error {\"type\":\"overloaded_error\"}",
                "content_block_delta {\"delta\":{\"text\":\" there\"}}",
                "message_stop {\"type\":\"message_stop\"}");
        assertThat(takeRequest().body()).isEqualTo(PROMPT.getBytes(UTF_8));
        assertNoSecondRequest("/v1/messages");
    }

    @ParameterizedTest
    @EnumSource(value = HttpClient.Version.class, names = {"HTTP_1_1", "HTTP_2"})
    void closingTheStreamAfterThreeEventsClosesTheServersSide(HttpClient.Version version) throws Exception {
        HttpResponse<Stream<SseEvent>> response = client(version).send(post("/endless"), SseBodyHandlers.ofEvents());
        try (Stream<SseEvent> events = response.body()) {
            assertThat(events.limit(3).map(SseEvent::data).toList()).containsExactly("tick 0", "tick 1", "tick 2");
        }
        // the endless stream writes every 20 ms for ever: only the close reaching the server ends it (10 s: loaded cores)
        assertThat(server.endlessGone.await(10, TimeUnit.SECONDS)).as("the server's write failed").isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = HttpClient.Version.class, names = {"HTTP_1_1", "HTTP_2"})
    void cancellingThePublisherAfterThreeEventsClosesTheServersSide(HttpClient.Version version) throws Exception {
        HttpResponse<Flow.Publisher<SseEvent>> response = client(version).send(post("/endless"), SseBodyHandlers.ofPublisher());
        Collector c = new Collector(3);
        response.body().subscribe(c);
        assertThat(c.received(3)).isTrue();
        c.subscription.cancel();
        // the endless stream writes every 20 ms for ever: only the close reaching the server ends it (10 s: loaded cores)
        assertThat(server.endlessGone.await(10, TimeUnit.SECONDS)).as("the server's write failed").isTrue();
        assertThat(c.events).hasSize(3);
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 429})
    void errorStatusesCarryStatusHeadersAndTheBodyText(int status) throws Exception {
        HttpResponse<Stream<SseEvent>> response = client(HttpClient.Version.HTTP_1_1).send(post("/status/" + status),
                SseBodyHandlers.ofEvents());
        assertThat(response.statusCode()).isEqualTo(status);
        Iterator<SseEvent> it = response.body().iterator();
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(it::hasNext);
        assertThat(thrown).isInstanceOf(UncheckedIOException.class).hasCauseInstanceOf(StreamHttpException.class);
        StreamHttpException e = (StreamHttpException) thrown.getCause();
        assertThat(e.status()).isEqualTo(status);
        assertThat(e.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(e.body()).contains("{\"error\":{\"type\":\"status_" + status + "\",\"message\":\"refused: ü\"}}");
        if (status == 429) {
            assertThat(e.retryAfter()).contains(java.time.Duration.ofSeconds(7));
            assertThat(e.headers().firstValue("Retry-After")).contains("7");
        }

        // the same through the publisher
        HttpResponse<Flow.Publisher<SseEvent>> p = client.send(post("/status/" + status), SseBodyHandlers.ofPublisher());
        Collector c = new Collector(1);
        p.body().subscribe(c);
        assertThat(c.done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.error.get()).isInstanceOf(StreamHttpException.class);
        assertThat(((StreamHttpException) c.error.get()).body()).contains(e.body().orElseThrow());
    }

    @Test
    void anHtmlPageFailsWithTheContentTypeAndItsText() throws Exception {
        HttpResponse<Stream<SseEvent>> response = client(HttpClient.Version.HTTP_2).send(post("/html"), SseBodyHandlers.ofEvents());
        try (Stream<SseEvent> events = response.body()) {
            assertThatThrownBy(events::toList).isInstanceOf(UncheckedIOException.class).cause()
                    .isInstanceOfSatisfying(StreamContentTypeException.class, e -> {
                        assertThat(e.status()).isEqualTo(200);
                        assertThat(e.contentType()).isEqualTo("text/html; charset=utf-8");
                        assertThat(e.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
                        assertThat(e.body()).contains("<html><body>Please log in</body></html>");
                    });
        }
    }

    @Test
    void anEventSourceReportsTheErrorBodyToo() throws Exception {
        RecordingListener l = new RecordingListener();
        try (EventSource s = EventSource.builder(server.uri("/status/401")).method("POST", HttpRequest.BodyPublishers.ofString(PROMPT))
                .build()) {
            s.start(l);
            l.expect("error StreamHttpException", "closed StreamHttpException");
            StreamHttpException e = (StreamHttpException) l.errors.take();
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.body()).contains("{\"error\":{\"type\":\"status_401\",\"message\":\"refused: ü\"}}");
        }
    }

    /**
     * Back-pressure: the server writes 50 MB; the subscriber asks for one event a second. What the
     * server manages to write stalls far below 50 MB (socket and client buffers only); once demand
     * returns, every event arrives, none lost.
     */
    @Test
    void aSlowSubscriberStallsTheServerAndLosesNothing() throws Exception {
        HttpResponse<Flow.Publisher<SseEvent>> response = client(HttpClient.Version.HTTP_1_1).send(post("/bulk"),
                SseBodyHandlers.ofPublisher());
        Collector c = new Collector(0);
        response.body().subscribe(c);
        long[] written = new long[4];
        for (int n = 0; n < 4; n++) {
            c.subscription.request(1);
            assertThat(c.received(1)).as("event %d on its demand", n + 1).isTrue();
            written[n] = server.bulkWritten.get();
        }
        // the server fills the socket and client buffers, then stalls: sampled every 500 ms (10 s
        // at most) until it wrote less than 64 KiB since the sample before. A client that buffered
        // without bound would let it write all 50 MB first, which the bound below refuses
        long[] last = {written[3]};
        await("the server stalled: less than 64 KiB written in 500 ms").atMost(Duration.ofSeconds(10))
                .pollDelay(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    long now = server.bulkWritten.get();
                    boolean stalled = now - last[0] < 64 * 1024;
                    last[0] = now;
                    return stalled;
                });
        long stalled = last[0];
        assertThat(c.arrivals.poll()).as("an event without demand").isNull();
        assertThat(c.events).hasSize(4);
        assertThat(stalled).as("bytes the server wrote against 4 events of demand").isLessThan(8L * 1024 * 1024);
        c.subscription.request(Long.MAX_VALUE);
        assertThat(c.done.await(40, TimeUnit.SECONDS)).as("the rest arrives").isTrue();
        assertThat(c.error.get()).isNull();
        assertThat(server.bulkWritten.get()).isGreaterThanOrEqualTo(LlmServer.BULK_BYTES);
        for (int i = 0; i < c.events.size(); i++) {
            SseEvent e = c.events.get(i);
            assertThat(e.data()).startsWith(i + " ");
        }
        assertThat(c.events.size()).isGreaterThan(50_000);
        System.out.println("back-pressure: server wrote " + written[0] + ", " + written[1] + ", " + written[2] + ", "
                + written[3] + " bytes after events 1..4 (one at a time), " + stalled + " when it stalled; then "
                + c.events.size() + " events in all");
    }

    /** A reconnecting POST source sends the body again on every attempt, with Last-Event-ID. */
    @Test
    void aReconnectingPostSourceSendsTheBodyAgainWithLastEventId() throws Exception {
        try (ScriptedServer scripted = new ScriptedServer()) {
            scripted.enqueue(ScriptedServer.Response.events("id: 1\ndata: a\n\n"));
            scripted.enqueue(ScriptedServer.Response.status(503));
            scripted.stream(ScriptedServer.Response.events("id: 2\ndata: b\n\n"));
            dev.ssekit.testkit.ManualScheduler time = new dev.ssekit.testkit.ManualScheduler();
            RecordingListener l = new RecordingListener();
            try (EventSource s = EventSource.builder(scripted.uri("/v1/stream")).method("POST", HttpRequest.BodyPublishers.ofString(PROMPT))
                    .header("Content-Type", "application/json").scheduler(time).ticker(time)
                    .readTimeout(java.time.Duration.ZERO).build()) {
                s.start(l);
                l.expect("open 200", dev.ssekit.testkit.Recorder.event("message", "1", "a"), "error StreamEndedException");
                time.advance(time.nextDelay());
                l.expect("error StreamHttpException");
                time.advance(time.nextDelay());
                l.expect("open 200", dev.ssekit.testkit.Recorder.event("message", "2", "b"));
                for (int i = 0; i < 3; i++) {
                    ScriptedServer.Request r = scripted.takeRequest();
                    assertThat(r.method()).isEqualTo("POST");
                    assertThat(r.body()).as("attempt %d", i + 1).isEqualTo(PROMPT.getBytes(UTF_8));
                    assertThat(r.header("Content-Type")).isEqualTo("application/json");
                    assertThat(r.header("Last-Event-ID")).isEqualTo(i == 0 ? null : "1");
                }
            }
        }
    }

    @Test
    void aBodyThatCannotBeReplayedIsRefusedAtBuild() {
        EventSource.Builder b = EventSource.builder(server.uri("/v1/stream"))
                .method("POST", HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[1])));
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be replayed").hasMessageContaining("BodyPublishers.ofInputStream");
        assertThatThrownBy(EventSource.builder(server.uri("/")).method("POST",
                HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.noBody()))::build)
                .hasMessageContaining("BodyPublishers.fromPublisher");
        assertThatThrownBy(EventSource.builder(server.uri("/")).method("BAD METHOD", HttpRequest.BodyPublishers.noBody())::build)
                .hasMessageContaining("method BAD METHOD cannot be sent");
        assertThat(EventSource.builder(server.uri("/")).method("QUERY", HttpRequest.BodyPublishers.ofString("q")).build()).isNotNull();
        assertThatThrownBy(() -> SseBodyHandlers.ofEvents(0)).hasMessage("maxEventSize must be positive: 0");
    }

    /** A subscriber that records and requests {@code initial} up front. */
    static final class Collector implements Flow.Subscriber<SseEvent> {
        final List<SseEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
        final LinkedBlockingQueue<SseEvent> arrivals = new LinkedBlockingQueue<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        private final long initial;
        volatile Flow.Subscription subscription;

        Collector(long initial) {
            this.initial = initial;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (initial > 0) {
                s.request(initial);
            }
        }

        @Override
        public void onNext(SseEvent item) {
            events.add(item);
            arrivals.add(item);
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
            done.countDown();
        }

        @Override
        public void onComplete() {
            done.countDown();
        }

        boolean received(int n) throws InterruptedException {
            for (int i = 0; i < n; i++) {
                if (arrivals.poll(10, TimeUnit.SECONDS) == null) {
                    return false;
                }
            }
            return true;
        }
    }
}
