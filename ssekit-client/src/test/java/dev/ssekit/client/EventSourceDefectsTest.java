package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.Recorder;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #30: the eight client defects found by a review against real servers, one test each.
 * Each failed on commit 0d8133e; how is said on each test.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EventSourceDefectsTest {

    private ScriptedServer server;
    private ManualScheduler time;
    private final List<EventSource> sources = new ArrayList<>();
    private final List<CountDownLatch> releaseAtEnd = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        server = new ScriptedServer();
        time = new ManualScheduler();
    }

    @AfterEach
    void tearDown() {
        releaseAtEnd.forEach(CountDownLatch::countDown);
        sources.forEach(EventSource::close);
        server.close();
    }

    private EventSource.Builder manual() {
        return EventSource.builder(server.uri("/sse")).scheduler(time).ticker(time).readTimeout(Duration.ZERO)
                .random(EventSourceTest.BOTTOM_OF_WINDOW);
    }

    private EventSource track(EventSource s) {
        sources.add(s);
        return s;
    }

    private CountDownLatch latch() {
        CountDownLatch l = new CountDownLatch(1);
        releaseAtEnd.add(l);
        return l;
    }

    private static String msg(String data) {
        return Recorder.event("message", "", data);
    }

    /**
     * Defect 1. Before: the delay was {@code 0 × 2^(n-1)} = 0 for ever; 843 requests in 2 s were
     * measured, here the first assertion failed with "expected ... 0.1S ... but was PT0S".
     */
    @Test
    void retryZeroDoesNotTurnBackoffOff() throws Exception {
        server.enqueue(ScriptedServer.Response.events("retry: 0\ndata: a\n\n"));
        for (int i = 0; i < 2000; i++) {
            server.enqueue(ScriptedServer.Response.status(503));
        }
        // on the manual clock: the bottom of the window is the client's own floor, the top grows
        RecordingListener l = new RecordingListener();
        track(manual().random(EventSourceTest.TOP_OF_WINDOW).build()).start(l);
        l.expect("open 200", msg("a"), "error StreamEndedException");
        Duration first = time.nextDelay();
        assertThat(first).as("the first delay after retry: 0").isGreaterThanOrEqualTo(RetryPolicy.create().minDelay());
        time.advance(first);
        l.expect("error StreamHttpException");
        Duration second = time.nextDelay();
        assertThat(second).as("backoff grows after retry: 0").isGreaterThan(first);

        // on the real clock with the default policy: a bounded number of requests in 2 s
        server.close();
        server = new ScriptedServer();
        server.enqueue(ScriptedServer.Response.events("retry: 0\ndata: a\n\n"));
        for (int i = 0; i < 2000; i++) {
            server.enqueue(ScriptedServer.Response.status(503));
        }
        EventSource real = track(EventSource.builder(server.uri("/sse")).readTimeout(Duration.ZERO).build());
        real.start(new RecordingListener());
        // 100 ms floor, window 100, 200, 400 ms...: at most 2000 / 100 + 1 requests even at the floor.
        // Each request is taken as it arrives, for 2 s at most: a 22nd fails at once
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int requests = 0;
        while (requests <= 21 && server.requests.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS) != null) {
            requests++;
        }
        real.close();
        assertThat(requests).as("requests in 2 s after retry: 0, then 503s").isBetween(2, 21);
    }

    /**
     * Defect 2. Before: {@code onError} ran on a {@code ForkJoinPool.commonPool} worker (the JDK
     * completes {@code sendAsync} there) and held it: "expecting actual not to be an instance of
     * ForkJoinWorkerThread", and with a 1-thread common pool the application's {@code
     * supplyAsync} timed out.
     */
    @Test
    void callbacksNeverRunOnOrHoldTheCommonPool() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503));
        CountDownLatch release = latch();
        AtomicReference<Thread> onErrorThread = new AtomicReference<>();
        CountDownLatch inOnError = new CountDownLatch(1);
        EventSource a = track(manual().build());
        a.start(new EventSourceListener() {
            @Override
            public void onEvent(SseEvent event) {
            }

            @Override
            public void onError(StreamException error) {
                onErrorThread.set(Thread.currentThread());
                inOnError.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS); // a listener busy for long
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
            }
        });
        assertThat(inOnError.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(onErrorThread.get()).isNotInstanceOf(ForkJoinWorkerThread.class);
        // the application's own work on the common pool is not held up by the busy listener
        CompletableFuture<String> app = new CompletableFuture<>();
        for (int i = 0; i < 4 * Runtime.getRuntime().availableProcessors(); i++) {
            CompletableFuture.supplyAsync(() -> "done").thenAccept(app::complete);
        }
        assertThat(app.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        // and the reconnect of the busy source is scheduled all the same
        assertThat(time.nextDelay()).isPositive();
    }

    /**
     * Defect 3. Before: {@code close()} ran {@code onClosed} inline under the callback lock held by
     * the sleeping {@code onEvent}: "execution timed out after 2000 ms".
     */
    @Test
    void closeReturnsAtOnceWhileACallbackRunsAndOnClosedRunsOnceAfterIt() throws Exception {
        server.stream(ScriptedServer.Response.events("data: a\n\n"));
        CountDownLatch release = latch();
        CountDownLatch inOnEvent = new CountDownLatch(1);
        BlockingQueue<Thread> onClosedThreads = new LinkedBlockingQueue<>();
        AtomicReference<Boolean> eventReturnedBeforeClosed = new AtomicReference<>();
        AtomicReference<Boolean> inEvent = new AtomicReference<>(false);
        EventSource s = track(manual().build());
        s.start(new EventSourceListener() {
            @Override
            public void onEvent(SseEvent event) {
                inEvent.set(true);
                inOnEvent.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                inEvent.set(false);
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                eventReturnedBeforeClosed.set(!inEvent.get());
                onClosedThreads.add(Thread.currentThread());
            }
        });
        assertThat(inOnEvent.await(10, TimeUnit.SECONDS)).isTrue();
        Thread closer = Thread.currentThread();
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> s.close(), "close() returns at once");
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> s.close(), "a second close() too");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        release.countDown();
        Thread onClosedThread = onClosedThreads.poll(10, TimeUnit.SECONDS);
        assertThat(onClosedThread).as("onClosed ran").isNotNull();
        assertThat(eventReturnedBeforeClosed.get()).as("onClosed ran after onEvent returned").isTrue();
        assertThat(onClosedThread).as("not inline on the closing thread").isNotSameAs(closer);
        // "once" is a negative: a second call would follow at once, so 300 ms of nothing suffice
        assertThat(onClosedThreads.poll(300, TimeUnit.MILLISECONDS)).as("onClosed runs once").isNull();
    }

    /**
     * Defect 3, the deadlock: a listener that {@code put()}s into a full 1-slot queue whose
     * consumer calls {@code close()}. Before: "execution timed out after 5000 ms".
     */
    @Test
    void aListenerBlockedOnTheConsumerOfCloseDoesNotDeadlock() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
        java.util.concurrent.ArrayBlockingQueue<String> queue = new java.util.concurrent.ArrayBlockingQueue<>(1);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Thread> listener = new AtomicReference<>();
        EventSource s = track(manual().build());
        s.start(new EventSourceListener() {
            @Override
            public void onEvent(SseEvent event) {
                listener.set(Thread.currentThread());
                try {
                    queue.put(event.data());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                closed.countDown();
            }
        });
        stream.awaitOpen();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThat(queue.take()).isEqualTo("1");
            // the listener is then blocked in put("3") or put("2"): its thread parks in the queue
            EventSourceTest.awaitParkedIn(listener::get, java.util.concurrent.ArrayBlockingQueue.class);
            s.close();
        });
        queue.clear(); // lets the blocked put() return
        queue.poll(1, TimeUnit.SECONDS);
        assertThat(closed.await(10, TimeUnit.SECONDS)).as("onClosed ran").isTrue();
    }

    /**
     * Defect 4. Before: {@code onClosed} never ran ("no callback within 10 s") and {@code events()}
     * blocked for ever ("execution timed out after 5000 ms").
     */
    @Test
    void closeBeforeStartOrEventsEndsAtOnce() throws Exception {
        EventSource s = track(manual().build());
        s.close();
        RecordingListener l = new RecordingListener();
        s.start(l);
        l.expect("closed ok");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);

        EventSource e = track(manual().build());
        e.close();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try (Stream<SseEvent> events = e.events()) {
                assertThat(events.toList()).isEmpty();
            }
        });
        assertThat(server.requests).as("nothing was requested").isEmpty();
    }

    /**
     * Defect 5, with a listener. Before: the 5 s the listener spent in {@code onEvent} counted as
     * silence: "expected open 200 / message b but was error StreamStalledException".
     */
    @Test
    void timeInAListenerIsNotServerSilence() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("data: a\n\n"));
        CountDownLatch inA = new CountDownLatch(1);
        CountDownLatch release = latch();
        RecordingListener recorder = new RecordingListener();
        EventSource s = track(manual().readTimeout(Duration.ofSeconds(2)).build());
        s.start(new EventSourceListener() {
            @Override
            public void onOpen(HttpResponse.ResponseInfo response) {
                recorder.onOpen(response);
            }

            @Override
            public void onEvent(SseEvent event) {
                recorder.onEvent(event);
                if (event.data().equals("a")) {
                    inA.countDown();
                    try {
                        release.await(3, TimeUnit.SECONDS); // blocked "4 s" on the manual clock
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void onComment(String comment) {
                recorder.onComment(comment);
            }

            @Override
            public void onError(StreamException error) {
                recorder.onError(error);
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                recorder.onClosed(failure);
            }
        });
        assertThat(inA.await(10, TimeUnit.SECONDS)).isTrue();
        stream.send(": heartbeat\n"); // the server is not silent; its bytes wait for the listener
        Thread virtualAdvance = Thread.ofVirtual().start(() -> time.advance(Duration.ofSeconds(4)));
        virtualAdvance.join(5000);
        release.countDown();
        recorder.expect("open 200", msg("a"), "comment \"heartbeat\"");
        stream.send("data: b\n\n");
        recorder.expect(msg("b"));
        recorder.expectNothingMore();
        assertThat(server.requests).hasSize(1);
    }

    /**
     * Defect 5, with {@code events()}: a consumer that does not read for longer than the read
     * timeout. Before: the stream was dropped as stalled and events were lost or the source
     * failed ("execution timed out" / UncheckedIOException(StreamHttpException 404)).
     */
    @Test
    void aSlowEventsConsumerDoesNotReconnect() throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            body.append("id: ").append(i).append("\ndata: ").append(i).append("\n\n");
        }
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events(body.toString()));
        EventSource s = track(manual().readTimeout(Duration.ofSeconds(2)).build());
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (Stream<SseEvent> events = s.events()) {
                Iterator<SseEvent> it = events.iterator();
                assertThat(it.next().data()).isEqualTo("0");
                // the queue fills (256) and the listener waits: the source holds its stream
                await("the source holding its stream for the listener").atMost(Duration.ofSeconds(10))
                        .until(() -> !s.reading());
                Thread advance = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 5; i++) {
                        time.advance(Duration.ofSeconds(1)); // 5 s: longer than the read timeout
                    }
                });
                advance.join(3000);
                stream.send("id: 400\ndata: 400\n\n"); // the stream is still the same connection
                for (int i = 1; i <= 400; i++) {
                    assertThat(it.next().data()).isEqualTo(String.valueOf(i));
                }
            }
        });
        assertThat(server.requests).as("no reconnect").hasSize(1);
    }

    /**
     * Defect 6. Before: the reconnect path set CONNECTING after {@code onError} (and the close in
     * it) returned: "expected CLOSED but was CONNECTING".
     */
    @Test
    void stateIsClosedAfterCloseFromOnError() throws Exception {
        server.enqueue(ScriptedServer.Response.status(503));
        AtomicReference<EventSource> self = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        EventSource s = track(manual().build());
        self.set(s);
        s.start(new EventSourceListener() {
            @Override
            public void onEvent(SseEvent event) {
            }

            @Override
            public void onError(StreamException error) {
                self.get().close();
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                closed.countDown();
            }
        });
        assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
        // the reconnect path asks for its delay after it sets the state: once asked, the state is final
        assertThat(time.nextDelay()).as("the reconnect path ran").isPositive();
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        // and the reconnect it scheduled is cancelled (by close(), or by the path itself right after)
        await("no reconnect pending").atMost(Duration.ofSeconds(5)).until(() -> time.pending().isEmpty());
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
    }

    /**
     * Defect 7. Before: three short streams that each delivered an event ended the source at the
     * second with maxAttempts 2 ("expected open 200 but was closed StreamEndedException"), and the
     * delay grew from 2 s to 3 s.
     */
    @Test
    void streamsThatDeliveredEventsResetTheAttemptCountAndTheBackoff() throws Exception {
        for (int i = 1; i <= 3; i++) {
            server.enqueue(ScriptedServer.Response.events("id: " + i + "\ndata: " + i + "\n\n"));
        }
        server.stream(ScriptedServer.Response.events("data: last\n\n"));
        RecordingListener l = new RecordingListener();
        track(manual().random(EventSourceTest.TOP_OF_WINDOW).maxAttempts(2).build()).start(l);
        for (int i = 1; i <= 3; i++) {
            l.expect("open 200", Recorder.event("message", String.valueOf(i), String.valueOf(i)), "error StreamEndedException");
            assertThat(time.nextDelay()).as("attempt %d: backoff starts again", i).isEqualTo(Duration.ofSeconds(2));
            time.advance(Duration.ofSeconds(2));
        }
        l.expect("open 200", Recorder.event("message", "3", "last"));
        l.expectNothingMore();
    }

    /**
     * Defect 8. Before: the id "a\tb" was not sent ("expected a\tb but was null") and the warning
     * said "not ASCII".
     */
    @Test
    void anIdWithATabIsSentBack() throws Exception {
        try (RawSseServer raw = new RawSseServer()) {
            raw.events("id: a\tb\ndata: x\n\n").events("id: \u00e9\ndata: y\n\n").events("data: z\n\n");
            RecordingListener l = new RecordingListener();
            track(EventSource.builder(raw.uri("/sse")).scheduler(time).ticker(time).readTimeout(Duration.ZERO)
                    .random(EventSourceTest.BOTTOM_OF_WINDOW).build()).start(l);
            l.expect("open 200", Recorder.event("message", "a\tb", "x"), "error StreamEndedException");
            time.advance(time.nextDelay());
            assertThat(RawSseServer.header(raw.takeHead(), "Last-Event-ID")).isNull();
            assertThat(RawSseServer.header(raw.takeHead(), "Last-Event-ID")).as("the id, TAB and all, on the wire")
                    .isEqualTo("a\tb");
            l.expect("open 200", Recorder.event("message", "\u00e9", "y"), "error StreamEndedException");
            time.advance(time.nextDelay());
            l.expect("open 200", Recorder.event("message", "\u00e9", "z"));
            assertThat(RawSseServer.header(raw.takeHead(), "Last-Event-ID"))
                    .as("over cleartext HTTP/1.1 a non-ASCII id cannot be sent intact: none is sent").isNull();
        }
    }

    /** Defect 8: the reason given for an id that is not sent names what is wrong with it. */
    @Test
    void onlyWhatCannotBeSentIsRefusedWithAnAccurateReason() {
        assertThat(EventSource.unsendableIdReason("a\tb", false)).isNull();
        assertThat(EventSource.unsendableIdReason(" a b ~", false)).isNull();
        assertThat(EventSource.unsendableIdReason("x\u0001", false)).contains("U+0001").contains("control");
        assertThat(EventSource.unsendableIdReason("x\u007f", true)).contains("U+007F");
        assertThat(EventSource.unsendableIdReason("é", false)).contains("non-ASCII").contains("HTTP/1.1").doesNotContain("control");
        assertThat(EventSource.unsendableIdReason("é", true)).isNull();
        assertThat(EventSource.builder(server.uri("/sse")).lastEventId("a\tb").build()).isNotNull();
    }
}
