package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.Recorder;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.WhatwgCases;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EventSourceTest {

    /** Always draws the top of the jitter window, so delays are exact. */
    static final RandomGenerator TOP_OF_WINDOW = new RandomGenerator() {
        @Override
        public long nextLong() {
            return Long.MAX_VALUE;
        }

        @Override
        public long nextLong(long bound) {
            return bound - 1;
        }
    };

    /** Always draws the bottom of the jitter window: the delay is the reconnection time itself. */
    static final RandomGenerator BOTTOM_OF_WINDOW = EventSourceHostileServerTest.BOTTOM_OF_WINDOW;

    private ScriptedServer server;
    private ManualScheduler time;
    private final List<EventSource> sources = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        server = new ScriptedServer();
        time = new ManualScheduler();
    }

    @AfterEach
    void tearDown() {
        sources.forEach(EventSource::close);
        server.close();
    }

    private EventSource.Builder source(String path) {
        // stall detection off unless a test turns it on: its timers would mix with the reconnect delays
        return EventSource.builder(server.uri(path)).scheduler(time).ticker(time).random(BOTTOM_OF_WINDOW)
                .readTimeout(Duration.ZERO);
    }

    private EventSource start(EventSource.Builder b, RecordingListener l) {
        EventSource s = b.build();
        sources.add(s);
        s.start(l);
        return s;
    }

    private static String msg(String data) {
        return Recorder.event("message", "", data);
    }

    @Test
    void receivesEventsAndCommentsWithTheSpecRequestHeaders() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("id: 1\ndata: a\n\n: hb\n"));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse"), l);
        l.expect("open 200", Recorder.event("message", "1", "a"), "comment \"hb\"");
        assertThat(s.state()).isEqualTo(EventSource.State.OPEN);
        stream.send("event: x\ndata: b\n\n");
        l.expect(Recorder.event("x", "1", "b"));
        ScriptedServer.Request r = server.takeRequest();
        assertThat(r.header("Accept")).isEqualTo("text/event-stream");
        assertThat(r.header("Cache-Control")).isEqualTo("no-cache");
        assertThat(r.header("Last-Event-ID")).isNull();
        assertThat(s.lastEventId()).isEqualTo("1");
        s.close();
        l.expect("closed ok");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(stream.awaitDisconnect()).as("the server saw the client leave").isTrue();
        s.close();
        assertThat(l.closedCalls()).isEqualTo(1);
    }

    static Stream<Arguments> whatwgCases() {
        return WhatwgCases.withEachLineEnd();
    }

    /** Every case of the parser's table, served over HTTP and read through the client. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("whatwgCases")
    void everyWhatwgCaseThroughTheClient(String name, String wire, WhatwgCases.Case c) throws Exception {
        server.enqueue(ScriptedServer.Response.events(wire));
        RecordingListener l = new RecordingListener();
        start(source("/sse").maxAttempts(1), l);
        l.expect("open 200");
        for (String line : c.expected()) {
            if (!line.startsWith("retry ")) { // retry is not a callback; see retryFieldSetsTheBaseDelay
                l.expect(line);
            }
        }
        l.expect("error StreamEndedException", "closed StreamEndedException");
        l.expectNothingMore();
    }

    @Test
    void reconnectsAfterTheStreamEndsAndSendsLastEventId() throws Exception {
        server.enqueue(ScriptedServer.Response.events("id: 7\ndata: a\n\n"));
        ScriptedServer.Stream second = server.stream(ScriptedServer.Response.events("data: b\n\n"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("open 200", Recorder.event("message", "7", "a"), "error StreamEndedException");
        assertThat(server.takeRequest().header("Last-Event-ID")).isNull();
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(1)); // the default initial delay, bottom of the window
        time.advance(Duration.ofSeconds(1));
        l.expect("open 200", Recorder.event("message", "7", "b"));
        assertThat(server.takeRequest().header("Last-Event-ID")).isEqualTo("7");
        second.end();
    }

    @Test
    void anEmptyIdClearsLastEventIdSoItIsNotSent() throws Exception {
        server.enqueue(ScriptedServer.Response.events("id: 7\ndata: a\n\nid\ndata: b\n\n"));
        server.stream(ScriptedServer.Response.events("data: c\n\n"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("open 200", Recorder.event("message", "7", "a"), msg("b"), "error StreamEndedException");
        time.nextDelay();
        time.advance(Duration.ofSeconds(1));
        l.expect("open 200", msg("c"));
        server.takeRequest();
        assertThat(server.takeRequest().header("Last-Event-ID")).isNull();
    }

    @Test
    void overHttp11NonAsciiIdsAreReportedButNotSentBackBecauseJavaNetHttpWouldCorruptThem() throws Exception {
        server.enqueue(ScriptedServer.Response.events("id: é☃😀\ndata: a\n\n"));
        server.stream(ScriptedServer.Response.events(""));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse").lastEventId("start-1"), l);
        l.expect("open 200", Recorder.event("message", "é☃😀", "a"), "error StreamEndedException");
        time.nextDelay();
        time.advance(Duration.ofSeconds(1));
        l.expect("open 200");
        assertThat(server.takeRequest().header("Last-Event-ID")).isEqualTo("start-1");
        assertThat(server.takeRequest().header("Last-Event-ID")).as("no corrupted id is sent").isNull();
        assertThat(s.lastEventId()).isEqualTo("é☃😀");
        assertThatThrownBy(() -> source("/sse").lastEventId("start-ü").build())
                .hasMessageContaining("lastEventId must be printable ASCII");
    }

    @Test
    void retryFieldSetsTheFloorAndBackoffGrowsAboveItUpToTheCap() throws Exception {
        server.enqueue(ScriptedServer.Response.events("retry: 3000\ndata: a\n\n"));
        RecordingListener l = new RecordingListener();
        start(source("/sse").random(TOP_OF_WINDOW).retryPolicy(RetryPolicy.builder().maxDelay(Duration.ofSeconds(10)).build()), l);
        l.expect("open 200", msg("a"), "error StreamEndedException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(6)); // 3 s floor + a window of 3 s
        // the next attempts find nothing scripted: 404 is fatal, so script 500s, which are retried
        server.enqueue(ScriptedServer.Response.status(500));
        server.enqueue(ScriptedServer.Response.status(500));
        time.advance(Duration.ofSeconds(6));
        l.expect("error StreamHttpException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(9)); // 3 s + 6 s
        time.advance(Duration.ofSeconds(9));
        l.expect("error StreamHttpException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(10)); // 3 s + 12 s, capped
    }

    @Test
    void failureCountResetsAfterAHealthyConnection() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503));
        ScriptedServer.Stream healthy = server.stream(ScriptedServer.Response.events(""));
        server.enqueue(ScriptedServer.Response.status(503));
        RecordingListener l = new RecordingListener();
        start(source("/sse").random(TOP_OF_WINDOW).readTimeout(Duration.ZERO), l);
        l.expect("error StreamHttpException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(2)); // 1 s floor + 1 s window
        time.advance(Duration.ofSeconds(2));
        l.expect("open 200");
        time.advance(Duration.ofSeconds(61)); // longer than resetAfter (60 s)
        healthy.end();
        l.expect("error StreamEndedException");
        assertThat(time.nextDelay()).as("failure count restarted").isEqualTo(Duration.ofSeconds(2));
        time.advance(Duration.ofSeconds(2));
        l.expect("error StreamHttpException");
        assertThat(time.nextDelay()).as("second consecutive failure").isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void followsRedirects() throws Exception {
        server.enqueue(ScriptedServer.Response.status(302).header("Location", "/moved"));
        server.stream(ScriptedServer.Response.events("data: here\n\n"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("open 200", msg("here"));
        assertThat(server.takeRequest().path()).isEqualTo("/sse");
        assertThat(server.takeRequest().path()).isEqualTo("/moved");
    }

    @Test
    void noContentClosesWithoutReconnecting() throws Exception {
        server.enqueue(ScriptedServer.Response.status(204));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse"), l);
        l.expect("closed ok");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(time.pending()).isEmpty();
        l.expectNothingMore();
    }

    @Test
    void wrongContentTypeFailsForGoodWithStatusAndHeaders() throws Exception {
        server.enqueue(ScriptedServer.Response.status(200).header("Content-Type", "text/plain").header("X-Why", "test"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("error StreamContentTypeException", "closed StreamContentTypeException");
        StreamContentTypeException e = (StreamContentTypeException) l.errors.take();
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.contentType()).isEqualTo("text/plain");
        assertThat(e.headers().firstValue("X-Why")).contains("test");
        assertThat(e.isRetryable()).isFalse();
        assertThat(time.pending()).isEmpty();
    }

    @Test
    void contentTypeParametersAreAccepted() throws Exception {
        server.enqueue(ScriptedServer.Response.status(200).header("Content-Type", "Text/Event-Stream; charset=windows-1252"));
        RecordingListener l = new RecordingListener();
        start(source("/sse").maxAttempts(1), l);
        l.expect("open 200");
    }

    @Test
    void clientErrorsAreFatal() throws Exception {
        server.enqueue(ScriptedServer.Response.status(404));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("error StreamHttpException", "closed StreamHttpException");
        StreamHttpException e = (StreamHttpException) l.errors.take();
        assertThat(e.status()).isEqualTo(404);
        assertThat(e.isRetryable()).isFalse();
    }

    @Test
    void serverErrorThenSuccess() throws Exception {
        server.enqueue(ScriptedServer.Response.status(500));
        server.stream(ScriptedServer.Response.events("data: recovered\n\n"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("error StreamHttpException");
        assertThat(((StreamHttpException) l.errors.take()).isRetryable()).isTrue();
        time.advance(time.nextDelay());
        l.expect("open 200", msg("recovered"));
    }

    @Test
    void serverErrorsAreFatalWhenRetryIsOff() throws Exception {
        server.enqueue(ScriptedServer.Response.status(500));
        RecordingListener l = new RecordingListener();
        start(source("/sse").retryServerErrors(false), l);
        l.expect("error StreamHttpException", "closed StreamHttpException");
    }

    @Test
    void retryAfterOn503IsHonouredPlusJitter() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503).header("Retry-After", "120"));
        RecordingListener l = new RecordingListener();
        start(source("/sse"), l);
        l.expect("error StreamHttpException");
        assertThat(((StreamHttpException) l.errors.take()).retryAfter()).contains(Duration.ofSeconds(120));
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(121)); // 120 s + the policy's delay (its floor here)
    }

    @Test
    void retryAfterAsHttpDate() {
        java.net.http.HttpHeaders h = java.net.http.HttpHeaders.of(Map.of("Retry-After", List.of(
                java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now().plusHours(1)))),
                (a, b) -> true);
        assertThat(EventSource.retryAfter(h)).isBetween(Duration.ofMinutes(58), Duration.ofMinutes(61));
        h = java.net.http.HttpHeaders.of(Map.of("Retry-After", List.of("soon")), (a, b) -> true);
        assertThat(EventSource.retryAfter(h)).isNull();
    }

    /** Waits (10 s at most) until the source reads its socket again after its listener handled a batch. */
    static void awaitReading(EventSource s) {
        await("the source reading its socket again").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(s::reading);
    }

    /**
     * Waits (10 s at most) until the thread {@code thread} gives is parked inside {@code type}'s
     * code: blocked there, not on its way to it.
     */
    static void awaitParkedIn(Supplier<Thread> thread, Class<?> type) {
        await("a thread parked in " + type.getSimpleName()).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> parkedIn(thread.get(), type));
    }

    /** Whether {@code t} is parked inside {@code type}'s code. */
    static boolean parkedIn(Thread t, Class<?> type) {
        return t != null && t.getState() == Thread.State.WAITING && Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getClassName().startsWith(type.getName()));
    }

    @Test
    void aSilentStreamIsDetectedAndHeartbeatsCountAsTraffic() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events(""));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse").readTimeout(Duration.ofSeconds(30)), l);
        l.expect("open 200");
        time.advance(Duration.ofSeconds(20));
        stream.send(": heartbeat\n");
        l.expect("comment \"heartbeat\"");
        awaitReading(s); // silence counts from when the listener is done and the socket is read again
        time.advance(Duration.ofSeconds(20)); // 40 s after open, 20 s after the heartbeat: not stalled
        l.expectNothingMore();
        time.advance(Duration.ofSeconds(10)); // 30 s of silence
        l.expect("error StreamStalledException");
        assertThat(stream.awaitDisconnect()).as("the stalled connection was dropped").isTrue();
        // the watchdog: armed for 30 s at open; at 30 s the stream had been silent only 10 s, so it
        // re-armed for the 20 s left; then the reconnect after the stall
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(20));
        assertThat(time.nextDelay()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void closeWhileConnectingEndsTheAttempt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        server.enqueue(ScriptedServer.Response.events("data: too late\n\n").holdHeadUntil(release));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse"), l);
        server.takeRequest(); // the request is in flight, the head not yet sent
        assertThat(s.state()).isEqualTo(EventSource.State.CONNECTING);
        s.close();
        l.expect("closed ok");
        release.countDown();
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(time.pending()).isEmpty();
        l.expectNothingMore();
    }

    @Test
    void closeWhileWaitingToReconnectCancelsTheTimer() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source("/sse"), l);
        l.expect("error StreamHttpException");
        time.nextDelay();
        assertThat(time.pending()).hasSize(1);
        s.close();
        l.expect("closed ok");
        // the timer is cancelled by close(), or, when close() ran while the reconnect was being
        // scheduled (the manual clock hands out the delay first), by the scheduling thread right after
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!time.pending().isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(time.pending()).isEmpty();
    }

    @Test
    void giveUpAfterMaxAttempts() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // nothing listens there once closed: connection refused
        }
        RecordingListener l = new RecordingListener();
        EventSource.Builder b = EventSource.builder(URI.create("http://127.0.0.1:" + port + "/sse"))
                .scheduler(time).ticker(time).random(TOP_OF_WINDOW).maxAttempts(2);
        start(b, l);
        l.expect("error StreamIoException");
        time.advance(time.nextDelay());
        l.expect("error StreamIoException", "closed StreamIoException");
    }

    @Test
    void headersAreComputedForEachAttempt() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503));
        server.stream(ScriptedServer.Response.events(""));
        AtomicInteger token = new AtomicInteger();
        RecordingListener l = new RecordingListener();
        start(source("/sse").header("X-Static", "s").headers(() -> Map.of("Authorization", "Bearer t" + token.incrementAndGet())), l);
        l.expect("error StreamHttpException");
        time.advance(time.nextDelay());
        l.expect("open 200");
        ScriptedServer.Request first = server.takeRequest();
        ScriptedServer.Request second = server.takeRequest();
        assertThat(first.header("Authorization")).isEqualTo("Bearer t1");
        assertThat(second.header("Authorization")).isEqualTo("Bearer t2");
        assertThat(second.header("X-Static")).isEqualTo("s");
    }

    @Test
    void readsSsekitsOwnServer() throws Exception {
        try (SsekitServer ssekit = new SsekitServer(conn -> {
            conn.send(SseMessage.builder().id("1").event("greeting").data("héllo\nwörld").build());
            conn.send(SseMessage.of(""));
            conn.close();
        })) {
            RecordingListener l = new RecordingListener();
            EventSource s = EventSource.builder(ssekit.uri()).scheduler(time).ticker(time).maxAttempts(1).build();
            sources.add(s);
            s.start(l);
            l.expect("open 200", Recorder.event("greeting", "1", "héllo\nwörld"), Recorder.event("message", "1", ""),
                    Recorder.event("close", "1", "Closing the connection"), "error StreamEndedException",
                    "closed StreamEndedException");
        }
    }

    @Test
    void pullApiReturnsEventsAndClosingTheStreamClosesTheSource() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
        EventSource s = source("/sse").build();
        sources.add(s);
        List<String> data;
        try (Stream<SseEvent> events = s.events()) {
            data = events.limit(3).map(SseEvent::data).toList();
        }
        assertThat(data).containsExactly("1", "2", "3");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(stream.awaitDisconnect()).isTrue();
    }

    @Test
    void pullApiSurvivesReconnectsAndThrowsOnFatalFailure() throws Exception {
        server.enqueue(ScriptedServer.Response.events("id: 1\ndata: a\n\n"));
        server.enqueue(ScriptedServer.Response.status(403));
        EventSource s = EventSource.builder(server.uri("/sse")).retryPolicy(RetryPolicy.builder()
                .initialDelay(Duration.ZERO).build()).build(); // real scheduler, no delay: nothing to wait for
        sources.add(s);
        List<String> seen = new ArrayList<>();
        try (Stream<SseEvent> events = s.events()) {
            assertThatThrownBy(() -> events.forEach(e -> seen.add(e.data())))
                    .isInstanceOf(UncheckedIOException.class)
                    .cause().isInstanceOf(StreamHttpException.class);
        }
        assertThat(seen).containsExactly("a");
        assertThat(server.takeRequest().header("Last-Event-ID")).isNull();
        assertThat(server.takeRequest().header("Last-Event-ID")).isEqualTo("1");
    }

    @Test
    void callbacksCanRunOnAGivenExecutorInOrder() throws Exception {
        server.stream(ScriptedServer.Response.events("data: 1\n\ndata: 2\n\n"));
        RecordingListener l = new RecordingListener();
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "callbacks");
            t.setDaemon(true);
            return t;
        });
        try {
            EventSourceListener wrapped = new EventSourceListener() {
                @Override
                public void onOpen(java.net.http.HttpResponse.ResponseInfo r) {
                    threads.add(Thread.currentThread().getName());
                    l.onOpen(r);
                }

                @Override
                public void onEvent(SseEvent e) {
                    threads.add(Thread.currentThread().getName());
                    l.onEvent(e);
                }

                @Override
                public void onClosed(java.util.Optional<StreamException> f) {
                    l.onClosed(f);
                }
            };
            EventSource s = source("/sse").callbackExecutor(pool).build();
            sources.add(s);
            s.start(wrapped);
            l.expect("open 200", msg("1"), msg("2"));
            s.close();
            l.expect("closed ok");
            assertThat(threads).containsOnly("callbacks");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aThrowingListenerDoesNotBreakTheSource() throws Exception {
        server.stream(ScriptedServer.Response.events("data: boom\n\ndata: fine\n\n"));
        RecordingListener l = new RecordingListener();
        EventSourceListener throwing = new EventSourceListener() {
            @Override
            public void onEvent(SseEvent e) {
                l.onEvent(e);
                if (e.data().equals("boom")) {
                    throw new IllegalStateException("listener bug");
                }
            }

            @Override
            public void onClosed(java.util.Optional<StreamException> f) {
                l.onClosed(f);
            }
        };
        EventSource s = source("/sse").build();
        sources.add(s);
        s.start(throwing);
        l.expect(msg("boom"), msg("fine"));
    }

    @Test
    void closingManySourcesLeavesNoThreadBehind() throws Exception {
        // warm up: the shared HTTP client and the scheduler start their threads once
        runAndCloseSources(1);
        int baseline = ManagementFactory.getThreadMXBean().getThreadCount();
        runAndCloseSources(50);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int now = ManagementFactory.getThreadMXBean().getThreadCount();
        while (now > baseline && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            now = ManagementFactory.getThreadMXBean().getThreadCount();
        }
        assertThat(now).as("platform threads after closing 50 sources").isLessThanOrEqualTo(baseline);
    }

    private void runAndCloseSources(int n) throws Exception {
        List<ScriptedServer.Stream> streams = new ArrayList<>();
        List<RecordingListener> listeners = new ArrayList<>();
        List<EventSource> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            streams.add(server.stream(ScriptedServer.Response.events("data: x\n\n")));
            RecordingListener l = new RecordingListener();
            listeners.add(l);
            opened.add(EventSource.builder(server.uri("/sse")).build());
            opened.getLast().start(l);
            l.expect("open 200", msg("x"));
        }
        opened.forEach(EventSource::close);
        for (int i = 0; i < n; i++) {
            listeners.get(i).expect("closed ok");
            assertThat(streams.get(i).awaitDisconnect()).isTrue();
        }
    }

    @Test
    void builderValidatesAndNamesTheSetting() {
        assertThatThrownBy(() -> EventSource.builder(URI.create("ftp://x/")).build()).hasMessageContaining("uri must be http or https");
        assertThatThrownBy(() -> source("/").maxAttempts(-1).build()).hasMessage("maxAttempts must be 0 (no limit) or positive: -1");
        assertThatThrownBy(() -> source("/").readTimeout(Duration.ofSeconds(-1)).build()).hasMessageContaining("readTimeout");
        assertThatThrownBy(() -> source("/").lastEventId("a\nb").build()).hasMessageContaining("lastEventId").hasMessageContaining("a\\nb");
        assertThatThrownBy(() -> source("/").header("Connection", "close").build()).hasMessageContaining("header Connection");
        assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5).build()).hasMessageContaining("multiplier");
        assertThatThrownBy(() -> RetryPolicy.builder().maxDelay(Duration.ZERO).build()).hasMessageContaining("maxDelay");
        EventSource s = source("/").build();
        s.start(new RecordingListener());
        sources.add(s);
        assertThatThrownBy(() -> s.start(new RecordingListener())).isInstanceOf(IllegalStateException.class);
    }
}
