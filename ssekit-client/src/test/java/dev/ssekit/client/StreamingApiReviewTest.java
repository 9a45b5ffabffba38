package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.ManualScheduler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An outside review of the issue #30 streaming APIs (branch r4), with a raw-socket server that
 * holds its connections open: a reader blocked on {@code ofEvents()} woken by a close from another
 * thread, an error body that never ends, and subscribers that throw (Reactive Streams 2.13).
 */
@Timeout(value = 25, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StreamingApiReviewTest {

    /**
     * Answers every connection with {@code head + first}, then writes {@code trickle} every 200 ms
     * (if not null; the pace of a server's heartbeats, not a wait of the test's) and counts down
     * {@link #closed} when the client closes its side. {@link #close()} ends every trickle.
     */
    static final class HoldingServer implements AutoCloseable {
        private final ServerSocket socket;
        private final String answer;
        private final String trickle;
        private final ScheduledExecutorService trickler =
                Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("trickle").factory());
        final CountDownLatch accepted = new CountDownLatch(1);
        final AtomicInteger connections = new AtomicInteger();
        final CountDownLatch closed = new CountDownLatch(1);
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        HoldingServer(String answer, String trickle) throws IOException {
            this.answer = answer;
            this.trickle = trickle;
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(this::accept);
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/sse");
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    sockets.add(s);
                    connections.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try {
                InputStream in = s.getInputStream();
                int c;
                int state = 0;
                while (state < 4 && (c = in.read()) >= 0) { // the request head, to its blank line
                    state = (c == '\r' && state % 2 == 0) || (c == '\n' && state % 2 == 1) ? state + 1 : 0;
                }
                accepted.countDown();
                OutputStream out = s.getOutputStream();
                out.write(answer.getBytes(ISO_8859_1));
                out.flush();
                if (trickle != null) {
                    trickler.scheduleAtFixedRate(() -> {
                        try {
                            out.write(trickle.getBytes(ISO_8859_1));
                            out.flush();
                        } catch (IOException e) {
                            // the client went away, or the server closed: no more runs
                            throw new UncheckedIOException(e);
                        }
                    }, 200, 200, TimeUnit.MILLISECONDS);
                }
                s.setSoTimeout(60_000);
                while (in.read() >= 0) {
                    // until the client closes its side
                }
            } catch (IOException e) {
                // reset by the client: closed too
            }
            closed.countDown();
        }

        @Override
        public void close() throws IOException {
            trickler.shutdownNow();
            socket.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    static final String STREAM_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

    /** A 401 whose JSON body starts and, with {@code chunk(" ")} as the trickle, never ends. */
    static final String UNAUTHORIZED_WITHOUT_END = "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n" + chunk("{\"error\":\"bad key\"");

    static String chunk(String s) {
        return Integer.toHexString(s.getBytes(ISO_8859_1).length) + "\r\n" + s + "\r\n";
    }

    private HttpClient client;
    private HoldingServer server;

    @BeforeEach
    void setUp() {
        client = HttpClient.newHttpClient();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        client.shutdownNow();
    }

    private HttpRequest get() {
        return HttpRequest.newBuilder(server.uri()).build();
    }

    /** Runs {@code task} on a new virtual thread named {@code reader}, which it hands to {@code thread}. */
    private static <T> CompletableFuture<T> onReader(Supplier<T> task, AtomicReference<Thread> thread) {
        return CompletableFuture.supplyAsync(task, r -> thread.set(Thread.ofVirtual().name("reader").start(r)));
    }

    /** Starts {@code source} with a listener that only waits for its end; the end's failure, if any. */
    private static CompletableFuture<Optional<StreamException>> startForItsEnd(EventSource source) {
        CompletableFuture<Optional<StreamException>> closed = new CompletableFuture<>();
        source.start(new EventSourceListener() {
            @Override
            public void onEvent(SseEvent e) {
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                closed.complete(failure);
            }
        });
        return closed;
    }

    /** The 401 of {@link #UNAUTHORIZED_WITHOUT_END}, with the start of its body kept. */
    private static void assertUnauthorizedWithBodyStart(Throwable f) {
        assertThat(f).isInstanceOfSatisfying(StreamHttpException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.body()).hasValueSatisfying(b -> assertThat(b).startsWith("{\"error\":\"bad key\""));
        });
    }

    /**
     * A reader blocked in the stream's first pull (the server sent the head and then nothing) is
     * woken when another thread closes the stream, the usual way to abort a blocking read; the
     * connection is closed.
     */
    @Test
    void closingTheStreamFromAnotherThreadEndsABlockedRead() throws Exception {
        server = new HoldingServer(STREAM_HEAD, null);
        HttpResponse<Stream<SseEvent>> response = client.send(get(), SseBodyHandlers.ofEvents());
        Stream<SseEvent> events = response.body();
        Iterator<SseEvent> it = events.iterator();
        AtomicReference<Thread> reader = new AtomicReference<>();
        CompletableFuture<Boolean> read = onReader(it::hasNext, reader);
        // the signal that the reader is blocked in the pull (not on its way to it): its thread
        // parked in the stream's code
        EventSourceTest.awaitParkedIn(reader::get, SseBodyHandlers.class);
        assertThat(read).as("blocked: the server sent no event").isNotDone();
        events.close();
        assertThat(read.get(5, TimeUnit.SECONDS)).as("the blocked pull ends: no more events").isFalse();
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("connection closed").isTrue();
    }

    /**
     * A 401 whose body never ends (a chunk every 200 ms) fails the first pull within the error
     * body's time bound (5 s), with the text that arrived, instead of hanging the caller for ever.
     */
    @Test
    void anErrorBodyThatNeverEndsFailsWithinItsBound() throws Exception {
        server = new HoldingServer(UNAUTHORIZED_WITHOUT_END, chunk(" "));
        HttpResponse<Stream<SseEvent>> response = client.send(get(), SseBodyHandlers.ofEvents());
        assertThat(response.statusCode()).isEqualTo(401);
        Iterator<SseEvent> it = response.body().iterator();
        CompletableFuture<Boolean> read = onReader(it::hasNext, new AtomicReference<>());
        assertThatThrownBy(() -> read.get(20, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UncheckedIOException.class)
                .cause().cause().satisfies(StreamingApiReviewTest::assertUnauthorizedWithBodyStart);
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("the rest of the body cancelled").isTrue();
    }

    /** Demands everything at subscription; throws from onSubscribe or from the first onNext. */
    static final class Thrower implements Flow.Subscriber<SseEvent> {
        final boolean inOnSubscribe;
        final BlockingQueue<Object> signals = new LinkedBlockingQueue<>();

        Thrower(boolean inOnSubscribe) {
            this.inOnSubscribe = inOnSubscribe;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
            if (inOnSubscribe) {
                throw new IllegalStateException("subscriber bug in onSubscribe");
            }
        }

        @Override
        public void onNext(SseEvent item) {
            signals.add(item.data());
            throw new IllegalStateException("subscriber bug in onNext");
        }

        @Override
        public void onError(Throwable t) {
            signals.add(t);
        }

        @Override
        public void onComplete() {
            signals.add("complete");
        }

        /**
         * Asserts the signals were {@code expected}, then that nothing more arrives within 300 ms
         * (a bounded poll: "nothing more" has no event of its own to wait for).
         */
        void assertSignalledOnly(Object... expected) throws InterruptedException {
            for (Object e : expected) {
                assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo(e);
            }
            assertThat(signals.poll(300, TimeUnit.MILLISECONDS)).as("signalled after the throw").isNull();
        }
    }

    /**
     * Subscribes a {@link Thrower} to an {@code ofPublisher()} response of the server's and waits
     * until the server saw the connection closed.
     */
    private Thrower throwerOnAResponse(boolean inOnSubscribe) throws Exception {
        HttpResponse<Flow.Publisher<SseEvent>> response = client.send(get(), SseBodyHandlers.ofPublisher());
        Thrower t = new Thrower(inOnSubscribe);
        try {
            response.body().subscribe(t);
        } catch (RuntimeException thrown) {
            // where it surfaces is the publisher's choice; what must hold is what the caller checks
        }
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("connection closed").isTrue();
        return t;
    }

    /**
     * Reactive Streams 2.13: a subscriber that throws from onNext has its subscription cancelled:
     * the connection is closed and nothing more is signalled (before, the work-in-progress counter
     * stayed taken and the connection stayed open for as long as the server kept it).
     */
    @Test
    void aSubscriberThrowingFromOnNextCancelsTheResponse() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\ndata: b\n\n"), chunk(": ping\n\n"));
        throwerOnAResponse(false).assertSignalledOnly("a");
    }

    /** Reactive Streams 2.13 for onSubscribe: the request made before the throw is cancelled. */
    @Test
    void aSubscriberThrowingFromOnSubscribeCancelsTheResponse() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\n"), chunk(": ping\n\n"));
        throwerOnAResponse(true).assertSignalledOnly();
    }

    /**
     * Reactive Streams 2.13 for {@link EventSource#publisher()}: a subscriber that throws from
     * onNext gets nothing more, and the source is closed (before, the source's serial callbacks
     * logged the exception and went on delivering the next events to it).
     */
    @Test
    void aSourceSubscriberThrowingFromOnNextClosesTheSource() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\ndata: b\n\ndata: c\n\n"), chunk(": ping\n\n"));
        EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ZERO).build();
        Thrower t = new Thrower(false);
        source.publisher().subscribe(t);
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("connection closed").isTrue();
        assertThat(source.state()).isEqualTo(EventSource.State.CLOSED);
        t.assertSignalledOnly("a");
        source.close();
    }

    /** The live threads, platform and virtual, from a JSON thread dump. */
    private static int liveThreads(Path dir, String name) throws IOException {
        Path file = dir.resolve(name + ".json");
        Files.deleteIfExists(file); // dumpThreads does not overwrite
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpThreads(file.toString(),
                HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
        Matcher m = Pattern.compile("\"tid\": *\"?\\d+").matcher(Files.readString(file));
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * 2,000 open/close cycles, half with a listener closed from outside, half with {@link
     * EventSource#publisher()} cancelled from inside onNext: no thread is left behind by the
     * callback executors or the publisher's demand wait.
     */
    @Test
    @Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void twoThousandOpenCloseCyclesLeaveNoThread(@TempDir Path dir) throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\n"), null);
        int before = liveThreads(dir, "before");
        for (int i = 0; i < 2000; i++) {
            EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ZERO).build();
            CountDownLatch closed = new CountDownLatch(1);
            if (i % 2 == 0) {
                CountDownLatch event = new CountDownLatch(1);
                source.start(new EventSourceListener() {
                    @Override
                    public void onEvent(SseEvent e) {
                        event.countDown();
                    }

                    @Override
                    public void onClosed(Optional<StreamException> failure) {
                        closed.countDown();
                    }
                });
                assertThat(event.await(10, TimeUnit.SECONDS)).as("cycle %d: event", i).isTrue();
                source.close();
            } else {
                source.publisher().subscribe(new Flow.Subscriber<SseEvent>() {
                    private Flow.Subscription sub;

                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        sub = s;
                        s.request(1);
                    }

                    @Override
                    public void onNext(SseEvent item) {
                        sub.cancel();
                        closed.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                        closed.countDown();
                    }

                    @Override
                    public void onComplete() {
                        closed.countDown();
                    }
                });
            }
            assertThat(closed.await(10, TimeUnit.SECONDS)).as("cycle %d: closed", i).isTrue();
            assertThat(source.state()).isEqualTo(EventSource.State.CLOSED);
        }
        // virtual threads finishing their close have no signal of their own: count again until
        // they are gone, 10 s at most
        await("threads left after 2,000 cycles").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(liveThreads(dir, "after") - before)
                        .as("threads left after 2,000 cycles (%d before)", before).isLessThanOrEqualTo(10));
    }

    /**
     * Media types are case-insensitive and take parameters: {@code Text/Event-Stream;
     * charset=UTF-8} is an event stream for both APIs; {@code ofEvents()} takes any 2xx (here 206),
     * while {@link EventSource} follows WHATWG (only 200 opens a stream; a 206 fails it for good).
     */
    @Test
    void contentTypeCaseAndParametersAnd2xxOtherThan200() throws Exception {
        String body = "data: a\n\n";
        server = new HoldingServer("HTTP/1.1 206 Partial Content\r\nContent-Type: Text/Event-Stream; charset=UTF-8\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body, null);
        try (Stream<SseEvent> events = client.send(get(), SseBodyHandlers.ofEvents()).body()) {
            assertThat(events.map(SseEvent::data).toList()).containsExactly("a");
        }
        EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ZERO).build();
        assertThat(startForItsEnd(source).get(10, TimeUnit.SECONDS)).hasValueSatisfying(f -> assertThat(f)
                .isInstanceOfSatisfying(StreamHttpException.class, e -> assertThat(e.status()).isEqualTo(206)));
        source.close();
    }

    /**
     * {@link EventSource#publisher()} with zero demand for three read timeouts while the server
     * sends heartbeats: the time the subscriber takes is not server silence, so no stall and no
     * reconnection; the held event arrives when demand returns. The read timeout runs on a manual
     * clock, moved three read timeouts on once the subscriber holds the stream.
     */
    @Test
    void zeroDemandLongerThanTheReadTimeoutIsNotAStall() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("id: 1\ndata: a\n\nid: 2\ndata: b\n\n"), chunk(": ping\n\n"));
        ManualScheduler time = new ManualScheduler();
        Duration readTimeout = Duration.ofSeconds(1);
        // a reconnection would wait 10 s or more: no delay of it can pass for the watchdog's 1 s
        EventSource source = EventSource.builder(server.uri()).readTimeout(readTimeout).scheduler(time).ticker(time)
                .retryPolicy(RetryPolicy.builder().minDelay(Duration.ofSeconds(10)).initialDelay(Duration.ofSeconds(10))
                        .maxDelay(Duration.ofSeconds(20)).build())
                .build();
        BlockingQueue<Object> signals = new LinkedBlockingQueue<>();
        CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();
        source.publisher().subscribe(new Flow.Subscriber<SseEvent>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription.complete(s);
                s.request(1);
            }

            @Override
            public void onNext(SseEvent item) {
                signals.add(item.data());
            }

            @Override
            public void onError(Throwable t) {
                signals.add(t);
            }

            @Override
            public void onComplete() {
                signals.add("complete");
            }
        });
        assertThat(signals.poll(10, TimeUnit.SECONDS)).isEqualTo("a");
        // "b" waits for demand in the subscriber's hands: the source does not read its socket
        await("the source holding the stream for its subscriber").atMost(Duration.ofSeconds(10))
                .until(() -> !source.reading());
        for (int i = 0; i < 3; i++) {
            time.advance(readTimeout); // each runs the stall check, on this thread
        }
        assertThat(time.pending()).as("only the stall check, armed again; no reconnection waiting")
                .containsExactly(readTimeout);
        assertThat(source.state()).isEqualTo(EventSource.State.OPEN);
        assertThat(signals).as("nothing more without demand").isEmpty();
        subscription.get().request(1);
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo("b");
        assertThat(server.connections.get()).as("connections: no reconnection").isEqualTo(1);
        assertThat(server.closed.getCount()).as("the first connection still open").isEqualTo(1);
        subscription.get().cancel();
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("cancel closes the connection").isTrue();
        assertThat(signals).as("nothing signalled after cancel").isEmpty();
    }

    /**
     * An {@link EventSource} with stall detection off ({@code readTimeout(Duration.ZERO)}, as for a
     * stream that may be silent for hours) given a 401 whose body trickles for ever: the failure
     * still surfaces, within the error body's bound (before, the error body had no bound but the
     * read timeout, so the source waited as long as the server trickled).
     */
    @Test
    void anEventSourceWithoutReadTimeoutStillBoundsAnErrorBody() throws Exception {
        server = new HoldingServer(UNAUTHORIZED_WITHOUT_END, chunk(" "));
        EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ZERO).build();
        try {
            assertThat(startForItsEnd(source).get(15, TimeUnit.SECONDS))
                    .hasValueSatisfying(StreamingApiReviewTest::assertUnauthorizedWithBodyStart);
        } finally {
            source.close();
        }
    }
}
