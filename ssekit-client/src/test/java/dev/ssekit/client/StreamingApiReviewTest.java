package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.ssekit.codec.SseEvent;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
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
     * (if not null) and counts down {@link #closed} when the client closes its side.
     */
    static final class HoldingServer implements AutoCloseable {
        private final ServerSocket socket;
        private final String answer;
        private final String trickle;
        final CountDownLatch accepted = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
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
                    Thread.ofVirtual().start(() -> {
                        try {
                            for (int i = 0; i < 300; i++) { // at most 60 s
                                Thread.sleep(200);
                                out.write(trickle.getBytes(ISO_8859_1));
                                out.flush();
                            }
                        } catch (IOException | InterruptedException e) {
                            // the client went away, or the server closed
                        }
                    });
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
            socket.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    static final String STREAM_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

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
        CompletableFuture<Boolean> read = CompletableFuture.supplyAsync(it::hasNext,
                r -> Thread.ofVirtual().name("reader").start(r));
        Thread.sleep(300);
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
        server = new HoldingServer("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + chunk("{\"error\":\"bad key\""), chunk(" "));
        HttpResponse<Stream<SseEvent>> response = client.send(get(), SseBodyHandlers.ofEvents());
        assertThat(response.statusCode()).isEqualTo(401);
        Iterator<SseEvent> it = response.body().iterator();
        CompletableFuture<Boolean> read = CompletableFuture.supplyAsync(it::hasNext,
                r -> Thread.ofVirtual().name("reader").start(r));
        assertThatThrownBy(() -> read.get(20, TimeUnit.SECONDS))
                .hasCauseInstanceOf(UncheckedIOException.class)
                .cause().cause().isInstanceOfSatisfying(StreamHttpException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.body()).hasValueSatisfying(b -> assertThat(b).startsWith("{\"error\":\"bad key\""));
                });
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("the rest of the body cancelled").isTrue();
    }

    /** Demands everything at subscription; throws from onSubscribe or from the first onNext. */
    static final class Thrower implements Flow.Subscriber<SseEvent> {
        final boolean inOnSubscribe;
        final List<Object> signals = new CopyOnWriteArrayList<>();

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
    }

    /**
     * Reactive Streams 2.13: a subscriber that throws from onNext has its subscription cancelled:
     * the connection is closed and nothing more is signalled (before, the work-in-progress counter
     * stayed taken and the connection stayed open for as long as the server kept it).
     */
    @Test
    void aSubscriberThrowingFromOnNextCancelsTheResponse() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\ndata: b\n\n"), chunk(": ping\n\n"));
        HttpResponse<Flow.Publisher<SseEvent>> response = client.send(get(), SseBodyHandlers.ofPublisher());
        Thrower t = new Thrower(false);
        try {
            response.body().subscribe(t);
        } catch (RuntimeException thrown) {
            // where it surfaces is the publisher's choice; what must hold is below
        }
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("connection closed").isTrue();
        Thread.sleep(200);
        assertThat(t.signals).containsExactly("a");
    }

    /** Reactive Streams 2.13 for onSubscribe: the request made before the throw is cancelled. */
    @Test
    void aSubscriberThrowingFromOnSubscribeCancelsTheResponse() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("data: a\n\n"), chunk(": ping\n\n"));
        HttpResponse<Flow.Publisher<SseEvent>> response = client.send(get(), SseBodyHandlers.ofPublisher());
        Thrower t = new Thrower(true);
        try {
            response.body().subscribe(t);
        } catch (RuntimeException thrown) {
            // as above
        }
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("connection closed").isTrue();
        Thread.sleep(200);
        assertThat(t.signals).isEmpty();
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
        Thread.sleep(200);
        assertThat(t.signals).containsExactly("a");
        source.close();
    }

    /** The live threads, platform and virtual, from a JSON thread dump. */
    private static int liveThreads(Path dir, String name) throws IOException {
        Path file = dir.resolve(name + ".json");
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int after = liveThreads(dir, "after");
        while (after - before > 10 && System.nanoTime() < deadline) { // virtual threads finishing their close
            Thread.sleep(200);
            after = liveThreads(dir, "after");
        }
        assertThat(after - before).as("threads left after 2,000 cycles (%d before)", before).isLessThanOrEqualTo(10);
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
        assertThat(closed.get(10, TimeUnit.SECONDS)).hasValueSatisfying(f -> assertThat(f)
                .isInstanceOfSatisfying(StreamHttpException.class, e -> assertThat(e.status()).isEqualTo(206)));
        source.close();
    }

    /**
     * {@link EventSource#publisher()} with zero demand for three read timeouts while the server
     * sends heartbeats: the time the subscriber takes is not server silence, so no stall and no
     * reconnection; the held event arrives when demand returns.
     */
    @Test
    void zeroDemandLongerThanTheReadTimeoutIsNotAStall() throws Exception {
        server = new HoldingServer(STREAM_HEAD + chunk("id: 1\ndata: a\n\nid: 2\ndata: b\n\n"), chunk(": ping\n\n"));
        EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ofSeconds(1)).build();
        List<Object> signals = new CopyOnWriteArrayList<>();
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
        Thread.sleep(3_000);
        assertThat(signals).containsExactly("a");
        subscription.get().request(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (signals.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(signals).containsExactly("a", "b");
        assertThat(server.connections.get()).as("connections: no reconnection").isEqualTo(1);
        subscription.get().cancel();
        assertThat(server.closed.await(5, TimeUnit.SECONDS)).as("cancel closes the connection").isTrue();
    }

    /**
     * An {@link EventSource} with stall detection off ({@code readTimeout(Duration.ZERO)}, as for a
     * stream that may be silent for hours) given a 401 whose body trickles for ever: the failure
     * still surfaces, within the error body's bound (before, the error body had no bound but the
     * read timeout, so the source waited as long as the server trickled).
     */
    @Test
    void anEventSourceWithoutReadTimeoutStillBoundsAnErrorBody() throws Exception {
        server = new HoldingServer("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + chunk("{\"error\":\"bad key\""), chunk(" "));
        EventSource source = EventSource.builder(server.uri()).readTimeout(Duration.ZERO).build();
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
        try {
            assertThat(closed.get(15, TimeUnit.SECONDS)).hasValueSatisfying(f -> assertThat(f)
                    .isInstanceOfSatisfying(StreamHttpException.class, e -> {
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.body()).hasValueSatisfying(b -> assertThat(b).startsWith("{\"error\":\"bad key\""));
                    }));
        } finally {
            source.close();
        }
    }
}
