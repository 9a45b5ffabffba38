package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.StoredEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nothing a publish does holds an event loop (issue #14): a publish is held in the middle of its
 * history append (a store that waits on a latch, as a slow disk or an fsync would) while new
 * subscriptions, {@code /healthz} and {@code /metrics} are answered. When the append goes on, the
 * publish is answered and the subscriber that joined meanwhile gets the event.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubEventLoopTest {

    /** An in-memory log whose appends wait (on the appending thread) until the test lets them go. */
    static final class HeldLog implements EventLog {
        final EventLog delegate = EventLog.inMemory(1000, 1 << 20, Duration.ofHours(1), Ticker.system());
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted) {
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    return CompletableFuture.failedFuture(new IllegalStateException("the test never released the append"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return CompletableFuture.failedFuture(e);
            }
            return delegate.append(message, topics, restricted);
        }

        @Override
        public void follow(Consumer<StoredEvent> follower) {
            delegate.follow(follower);
        }

        @Override
        public void close() {
            delegate.close();
        }

        @Override
        public String epoch() {
            return delegate.epoch();
        }

        @Override
        public long lastSequence() {
            return delegate.lastSequence();
        }

        @Override
        public Optional<StoredEvent> oldest() {
            return delegate.oldest();
        }

        @Override
        public OptionalLong sequenceOf(String id) {
            return delegate.sequenceOf(id);
        }

        @Override
        public List<StoredEvent> after(long sequence) {
            return delegate.after(sequence);
        }

        @Override
        public long size() {
            return delegate.size();
        }

        @Override
        public long bytes() {
            return delegate.bytes();
        }
    }

    private final HeldLog store = new HeldLog();
    private Broadcaster broadcaster;
    private MercureHub hub;
    private HttpClient http;

    @BeforeEach
    void start() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.builder().log(store).build();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024, 100, 100,
                true, true, "", Duration.ofSeconds(10), java.util.Optional.empty())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token"))), broadcaster, Scheduler.system(), Clock.systemUTC());
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        store.release.countDown();
        http.close();
        hub.close();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.address().getPort() + path)).timeout(Duration.ofSeconds(5));
    }

    @Test
    void subscriptionsHealthAndMetricsAreAnsweredWhileAPublishIsHeldInItsAppend() throws Exception {
        CompletableFuture<HttpResponse<String>> publish = http.sendAsync(request(HubHandler.PATH)
                .header("Authorization", "Bearer " + token("{\"mercure\":{\"publish\":[\"*\"]}}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=held&data=after+the+append")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(store.entered.await(10, TimeUnit.SECONDS)).as("the publish reached the append").isTrue();

        try (RawHttp subscriber = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=" + URLEncoder.encode("held", UTF_8),
                "HTTP/1.1")) {
            assertThat(subscriber.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(http.send(request("/healthz").build(), HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("ok\n");
            HttpResponse<String> metrics = http.send(request("/metrics").header("Authorization", "Bearer metrics-token").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("ssekit_connections ");
            HttpResponse<String> list = http.send(request(Subscriptions.PATH)
                    .header("Authorization", "Bearer " + token("{\"mercure\":{\"subscribe\":[\"*\"]}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).as("the subscriptions API reads the last event id without the publish lock").isEqualTo(200);
            assertThat(publish).as("still held").isNotDone();

            store.release.countDown();
            HttpResponse<String> published = publish.get(10, TimeUnit.SECONDS);
            assertThat(published.statusCode()).isEqualTo(200);
            assertThat(subscriber.readEvent()).isEqualTo(":\nid: " + published.body() + "\ndata: after the append\n\n");
        }
    }

    /**
     * HTTP/1.1 pipelining while a publish waits in its append: the health check sent behind it in
     * the same write is answered after it, never first (RFC 9112 9.3.2: responses in request order).
     */
    @Test
    void aPipelinedRequestIsAnsweredAfterThePublishItFollows() throws Exception {
        byte[] form = "topic=held&data=first".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        String requests = "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + token("{\"mercure\":{\"publish\":[\"*\"]}}")
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length + "\r\n\r\n"
                + new String(form, java.nio.charset.StandardCharsets.ISO_8859_1)
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", hub.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(requests.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            assertThat(store.entered.await(10, TimeUnit.SECONDS)).as("the publish reached the append").isTrue();
            assertThat(s.getInputStream().available()).isZero();
            nothingArrivesWhileThePublishWaits(s);
            store.release.countDown();
            String both = HubHostileInputTest.response(s.getInputStream()) + HubHostileInputTest.response(s.getInputStream());
            int publish = both.indexOf("HTTP/1.1 200 OK");
            int health = both.indexOf("ok\n");
            assertThat(publish).isZero();
            assertThat(health).as("the health check's answer comes second").isGreaterThan(both.indexOf("HTTP/1.1 200 OK", 1));
        }
    }

    /**
     * Requests that arrive in a later read than a held publish (reading is not paused until one
     * arrives): they wait behind it and are answered after it, in order.
     */
    @Test
    void requestsSentAfterAHeldPublishAreAnsweredAfterItInOrder() throws Exception {
        byte[] form = "topic=held&data=first".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        String publish = "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + token("{\"mercure\":{\"publish\":[\"*\"]}}")
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length + "\r\n\r\n"
                + new String(form, java.nio.charset.StandardCharsets.ISO_8859_1);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", hub.address().getPort())) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true); // each write its own segment: the requests below arrive in later reads
            s.getOutputStream().write(publish.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            assertThat(store.entered.await(10, TimeUnit.SECONDS)).as("the publish reached the append").isTrue();
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20) + "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            nothingArrivesWhileThePublishWaits(s);
            store.release.countDown();
            assertThat(HubHostileInputTest.response(s.getInputStream())).startsWith("HTTP/1.1 200 OK").doesNotContain("ok\n");
            for (int i = 0; i < 21; i++) {
                assertThat(HubHostileInputTest.response(s.getInputStream())).as("health check %d", i).startsWith("HTTP/1.1 200 OK")
                        .endsWith("ok\n");
            }
            assertThat(HubHostileInputTest.response(s.getInputStream())).startsWith("HTTP/1.1 404");
        }
        // and the hub publishes on as usual
        HttpResponse<String> again = http.send(request(HubHandler.PATH)
                .header("Authorization", "Bearer " + token("{\"mercure\":{\"publish\":[\"*\"]}}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=held&data=second")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(200);
    }

    /** Gives a wrongly ordered answer 300 ms to arrive: nothing may come while the publish waits. */
    private static void nothingArrivesWhileThePublishWaits(java.net.Socket s) throws java.io.IOException {
        s.setSoTimeout(300);
        try {
            int b = s.getInputStream().read();
            throw new AssertionError("an answer came while the publish waited, starting with " + (char) b);
        } catch (java.net.SocketTimeoutException expected) {
            // nothing yet, as it must be
        }
        s.setSoTimeout(10_000);
    }
}
