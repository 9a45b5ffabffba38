package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.TestCertificate;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Mercure endpoints over real HTTP and, every test again, over HTTPS (a test certificate; HTTP/2
 * by ALPN for java.net.http): publishers with java.net.http, subscribers read byte-exact (HTTP/1.1,
 * over TLS for HTTPS).
 */
@Timeout(60)
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"http", "https"})
class MercureHubTest {

    /** {@code http} or {@code https}: the scheme every test of this run uses. */
    @Parameter
    String scheme;

    @TempDir
    static Path certificates;
    static TestCertificate certificate;

    @BeforeAll
    static void certificate() throws Exception {
        certificate = TestCertificate.create(certificates, "hub");
    }

    static final String BOOKS = "https://example.com/books/{id}";
    static final String PUBLISHER = "{\"mercure\":{\"publish\":[\"*\"]}}";

    private Broadcaster broadcaster;
    private MercureHub hub;
    private HttpClient http;
    private final List<RawHttp> clients = new ArrayList<>();

    private boolean tls() {
        return scheme.equals("https");
    }

    /** For HTTPS, the test certificate's files, watched on the system scheduler (not a test's manual one). */
    private Optional<CertificateFiles> tlsFiles() {
        return tls() ? Optional.of(CertificateFiles.watch(certificate.certificate(), certificate.key(), Scheduler.system(),
                CertificateFiles.POLL)) : Optional.empty();
    }

    /** A raw HTTP/1.1 subscriber's request, over TLS for HTTPS. */
    private RawHttp raw(InetSocketAddress address, String pathAndQuery, String... headers) throws Exception {
        return tls() ? RawHttp.get(certificate.clientContext(), address, pathAndQuery, "HTTP/1.1", headers)
                : RawHttp.get(address, pathAndQuery, "HTTP/1.1", headers);
    }

    @BeforeEach
    void start() {
        startHub(Broadcaster.create());
        http = tls() ? HttpClient.newBuilder().sslContext(certificate.clientContext()).build() : HttpClient.newHttpClient();
    }

    private void startHub(Broadcaster b) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = b;
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true,
                Set.of("https://app.example.com"), 64 * 1024, 100, 50, true, true, "the-demo-token", Duration.ofSeconds(10), tlsFiles())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token"))),
                broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        for (RawHttp c : clients) {
            c.close();
        }
        http.close();
        hub.close();
    }

    private URI uri(String pathAndQuery) {
        return URI.create(scheme + "://127.0.0.1:" + hub.address().getPort() + pathAndQuery);
    }

    private HttpResponse<String> publish(String token, String... form) throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < form.length; i += 2) {
            body.append(body.isEmpty() ? "" : "&").append(form[i]).append('=').append(URLEncoder.encode(form[i + 1], UTF_8));
        }
        HttpRequest.Builder r = HttpRequest.newBuilder(uri(HubHandler.PATH))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private RawHttp subscribe(String query, String... headers) throws Exception {
        RawHttp c = raw(hub.address(), HubHandler.PATH + "?" + query, headers);
        clients.add(c);
        return c;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    /** Waits until the hub has exactly this many subscribers (they start just after the response head, and leave when the hub notices). */
    private void awaitSubscribers(int n) {
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(broadcaster.stats().connections()).as("subscribers").isEqualTo(n));
    }

    @Test
    void publishedUpdatesReachMatchingSubscribers() throws Exception {
        RawHttp books = subscribe("topic=" + enc(BOOKS));
        assertThat(books.statusLine).isEqualTo("HTTP/1.1 200 OK");
        assertThat(books.headers).containsEntry("content-type", "text/event-stream; charset=utf-8")
                .containsEntry("cache-control", "private, no-cache, no-store, must-revalidate, max-age=0")
                .containsEntry("x-accel-buffering", "no")
                .doesNotContainKey("last-event-id");
        awaitSubscribers(1);
        HttpResponse<String> r = publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "{\"title\":\"1984\"}",
                "type", "update", "retry", "2500");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).contains("text/plain; charset=utf-8");
        String id = r.body();
        assertThat(books.readEvent()).isEqualTo(":\nid: " + id + "\nevent: update\ndata: {\"title\":\"1984\"}\nretry: 2500\n\n");
        publish(token(PUBLISHER), "topic", "https://example.com/authors/1", "data", "not for books");
        String last = publish(token(PUBLISHER), "topic", "https://example.com/books/2", "id", "urn:uuid:42", "data", "").body();
        assertThat(last).isEqualTo("urn:uuid:42");
        assertThat(books.readEvent()).isEqualTo("id: urn:uuid:42\ndata:\n\n");
    }

    @Test
    void privateUpdatesReachOnlySubscribersWithAMatchingClaim() throws Exception {
        RawHttp anonymous = subscribe("topic=" + enc(BOOKS));
        RawHttp reader = subscribe("topic=" + enc(BOOKS),
                "Authorization: Bearer " + token("{\"mercure\":{\"subscribe\":[\"https://example.com/books/1\"]}}"));
        awaitSubscribers(2);
        publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "secret", "private", "on");
        publish(token(PUBLISHER), "topic", "https://example.com/books/2", "data", "secret 2", "private", "on");
        publish(token(PUBLISHER), "topic", "https://example.com/books/3", "data", "public");
        assertThat(anonymous.events(1).getFirst().data()).isEqualTo("public");
        assertThat(reader.events(1).getFirst().data()).isEqualTo("secret");
        assertThat(reader.events(1).getFirst().data()).isEqualTo("public");
    }

    @Test
    void reconnectionWithLastEventIdHeaderOrQueryParameter() throws Exception {
        String first = publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "one").body();
        publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "two");
        RawHttp byHeader = subscribe("topic=" + enc(BOOKS), "Last-Event-ID: " + first);
        assertThat(byHeader.headers).containsEntry("last-event-id", first);
        assertThat(byHeader.events(1).getFirst().data()).isEqualTo("two");
        RawHttp byQuery = subscribe("topic=" + enc(BOOKS) + "&lastEventID=" + enc(first));
        assertThat(byQuery.headers).containsEntry("last-event-id", first);
        assertThat(byQuery.events(1).getFirst().data()).isEqualTo("two");
        RawHttp earliest = subscribe("topic=" + enc(BOOKS) + "&lastEventID=earliest");
        assertThat(earliest.headers).containsEntry("last-event-id", "earliest");
        assertThat(earliest.events(1).getFirst().data()).isEqualTo("one");
        RawHttp unknown = subscribe("topic=" + enc(BOOKS), "Last-Event-ID: not-an-id");
        assertThat(unknown.headers).as("unknown id: replay starts at the earliest").containsEntry("last-event-id", "earliest");
        assertThat(unknown.events(1).getFirst().data()).isEqualTo("one");
    }

    /**
     * When subscribers' delivery falls a whole backlog behind (here: a subscriber whose delivery
     * thread is held up), a publish is answered 503 with Retry-After instead of being held; once
     * delivery catches up publishes are accepted again, and every accepted update arrives.
     */
    @Test
    void aPublishWhileDeliveryIsBackloggedIs503WithRetryAfter() throws Exception {
        hub.close();
        startHub(Broadcaster.builder().deliveryBacklog(4).build());
        java.util.concurrent.ExecutorService slow = java.util.concurrent.Executors.newSingleThreadExecutor();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try {
            slow.execute(() -> {
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            BufferTransport held = new BufferTransport(slow);
            broadcaster.subscribe(dev.ssekit.Sse.open(held), "https://example.com/books/1");
            for (int i = 0; i < 4; i++) {
                assertThat(publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "u" + i).statusCode())
                        .as("publish %d, within the backlog", i).isEqualTo(200);
            }
            assertThat(broadcaster.isBacklogged()).isTrue();
            HttpResponse<String> refused = publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "u4");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).contains("1");
            release.countDown();
            held.await("data: u3\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> !broadcaster.isBacklogged());
            assertThat(publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "u5").statusCode()).isEqualTo(200);
            assertThat(held.await("data: u5\n")).contains("data: u0\n", "data: u1\n", "data: u2\n", "data: u3\n")
                    .doesNotContain("data: u4\n");
        } finally {
            release.countDown();
            slow.shutdownNow();
        }
    }

    @Test
    void publishIsRejectedWithTheReferenceStatusCodes() throws Exception {
        String t = token(PUBLISHER);
        assertThat(publish(null, "topic", "x", "data", "d").statusCode()).isEqualTo(401);
        assertThat(publish("not.a.token", "topic", "x").statusCode()).isEqualTo(401);
        assertThat(publish(token("{}"), "topic", "x").statusCode()).as("no publish claim").isEqualTo(403);
        assertThat(publish(token("{\"mercure\":{\"publish\":[\"" + BOOKS + "\"]}}"), "topic", "https://example.com/authors/1")
                .statusCode()).as("topic outside the claim").isEqualTo(403);
        assertThat(publish(token("{\"mercure\":{\"publish\":[\"" + BOOKS + "\"]}}"), "topic", "https://example.com/books/1")
                .statusCode()).isEqualTo(200);
        HttpResponse<String> missing = publish(t, "data", "d");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).isEqualTo("Missing \"topic\" parameter.\n");
        assertThat(publish(t, "topic", "x", "retry", "-1").statusCode()).isEqualTo(400);
        assertThat(publish(t, "topic", "x", "retry", "soon").statusCode()).isEqualTo(400);
        assertThat(publish(t, "topic", "x", "id", "a\nb").statusCode()).isEqualTo(400);
        assertThat(publish(t, "topic", "x", "id", "#frag").statusCode()).isEqualTo(400);
        assertThat(publish(t, "topic", "x", "type", "a\rb").statusCode()).isEqualTo(400);
        assertThat(publish(t, "topic", "x", "type", "a\0b").statusCode()).isEqualTo(400);
        // 403 before issue #24: Mercure 1.0 refuses the hub's namespace with 400 whatever the token (L365-383)
        assertThat(publish(t, "topic", HubHandler.PATH + "/subscriptions/x").statusCode()).isEqualTo(400);
        String[] tooMany = new String[202];
        for (int i = 0; i < 101; i++) {
            tooMany[2 * i] = "topic";
            tooMany[2 * i + 1] = "t" + i;
        }
        assertThat(publish(t, tooMany).statusCode()).isEqualTo(400);
        HttpResponse<String> big = publish(t, "topic", "x", "data", "x".repeat(70 * 1024));
        assertThat(big.statusCode()).isEqualTo(413);
        HttpResponse<String> badEncoding = http.send(HttpRequest.newBuilder(uri(HubHandler.PATH))
                .header("Authorization", "Bearer " + t).POST(HttpRequest.BodyPublishers.ofString("topic=%zz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(badEncoding.statusCode()).isEqualTo(400);
        assertThat(badEncoding.body()).doesNotContain("Exception").doesNotContain("at ");
    }

    @Test
    void subscribeIsRejectedWithTheReferenceStatusCodes() throws Exception {
        assertThat(subscribe("nothing=1").statusLine).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(subscribe("topic=x", "Authorization: Bearer nope").statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
        assertThat(subscribe("topic=x", "Authorization: Basic abc").statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
        String expired = token("{\"exp\":1}");
        assertThat(subscribe("topic=x&authorization=" + expired).statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
        // a cookie without Origin/Referer is refused (CSRF), from a foreign origin too; an allowed one works
        String cookie = "Cookie: mercureAuthorization=" + token("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        assertThat(subscribe("topic=x", cookie).statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
        assertThat(subscribe("topic=x", cookie, "Origin: https://evil.example").statusLine).isEqualTo("HTTP/1.1 403 Forbidden");
        assertThat(subscribe("topic=x", cookie, "Origin: https://app.example.com").statusLine).isEqualTo("HTTP/1.1 200 OK");
        assertThat(subscribe("topic=x", cookie, "Referer: https://app.example.com/page").statusLine).isEqualTo("HTTP/1.1 200 OK");
    }

    @Test
    void corsForAllowedOriginsOnly() throws Exception {
        HttpResponse<Void> preflight = http.send(HttpRequest.newBuilder(uri(HubHandler.PATH))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "GET").build(), HttpResponse.BodyHandlers.discarding());
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("access-control-allow-origin")).contains("https://app.example.com");
        assertThat(preflight.headers().firstValue("access-control-allow-credentials")).contains("true");
        assertThat(preflight.headers().firstValue("access-control-allow-headers").orElse(""))
                .contains("authorization").contains("last-event-id");
        HttpResponse<Void> foreign = http.send(HttpRequest.newBuilder(uri(HubHandler.PATH))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example").build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(foreign.headers().firstValue("access-control-allow-origin")).isEmpty();
        RawHttp stream = subscribe("topic=x", "Origin: https://app.example.com");
        assertThat(stream.headers).containsEntry("access-control-allow-origin", "https://app.example.com");
        RawHttp other = subscribe("topic=x", "Origin: https://evil.example");
        assertThat(other.headers).doesNotContainKey("access-control-allow-origin");
    }

    @Test
    void aboveTheConnectionLimitSubscribersGet503WithRetryAfter() throws Exception {
        for (int i = 0; i < 50; i++) {
            subscribe("topic=x");
        }
        awaitSubscribers(50);
        RawHttp refused = subscribe("topic=x");
        assertThat(refused.statusLine).isEqualTo("HTTP/1.1 503 Service Unavailable");
        assertThat(refused.headers).containsEntry("retry-after", "5");
    }

    @Test
    void metricsInPrometheusFormat() throws Exception {
        RawHttp s = subscribe("topic=x");
        awaitSubscribers(1);
        publish(token(PUBLISHER), "topic", "x", "data", "m");
        assertThat(s.events(1).getFirst().data()).isEqualTo("m");
        String metrics = http.send(HttpRequest.newBuilder(uri("/metrics")).header("Authorization", "Bearer metrics-token").build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("# TYPE ssekit_connections gauge\nssekit_connections 1\n")
                // "m" only: the subscription's own "active" update goes to the subscriptions' broadcaster (issue #28)
                .contains("ssekit_published_total 1\n")
                .contains("ssekit_evictions_total{reason=\"slow_consumer\"} 0\n")
                .contains("ssekit_history_events 1\n");
    }

    @Test
    void aSubscriptionEndsWhenItsTokenExpiresAndItsTimerGoesWhenTheStreamEndsFirst() throws Exception {
        // a hub of its own on a manual timer and a fixed clock: no test time passes
        dev.ssekit.testkit.ManualScheduler timers = new dev.ssekit.testkit.ManualScheduler();
        java.time.Instant now = java.time.Instant.ofEpochSecond(1_800_000_000L);
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster b = Broadcaster.create();
        try (MercureHub timed = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                1024, 10, 10, false, false, "", Duration.ofSeconds(10), tlsFiles())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token"))), b, timers, Clock.fixed(now, java.time.ZoneOffset.UTC))) {
            String expiring = "Authorization: Bearer " + token("{\"exp\":" + (now.getEpochSecond() + 60)
                    + ",\"mercure\":{\"subscribe\":[\"*\"]}}");
            try (RawHttp s = raw(timed.address(), HubHandler.PATH + "?topic=x", expiring)) {
                assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
                assertThat(timers.nextDelay()).isEqualTo(Duration.ofSeconds(60));
                timers.advance(Duration.ofSeconds(59));
                // the timer is set just before the subscription starts
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(b.stats().connections()).as("subscribers").isEqualTo(1));
                String id = b.publish(SseMessage.of("still open"), "x");
                assertThat(s.readEvent()).isEqualTo(":\nid: " + id + "\ndata: still open\n\n");
                timers.advance(Duration.ofSeconds(1));
                // the stream ends as the reference hub ends it: no event after the last update (a Mercure
                // client, an EventSource listener of "close", would see ssekit's "event: close" notice as a stray event)
                assertThat(s.readToEnd()).as("what the hub wrote after the last update, at the token's exp").isEmpty();
            }
            RawHttp gone = raw(timed.address(), HubHandler.PATH + "?topic=x", expiring);
            assertThat(timers.nextDelay()).isEqualTo(Duration.ofSeconds(60));
            assertThat(timers.pending()).hasSize(1);
            gone.close();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(
                    () -> assertThat(timers.pending()).as("the expiry timer of a stream that ended first").isEmpty());
        }
    }

    @Test
    void healthAndUnknownPaths() throws Exception {
        assertThat(http.send(HttpRequest.newBuilder(uri("/healthz")).build(), HttpResponse.BodyHandlers.ofString()).body())
                .isEqualTo("ok\n");
        assertThat(http.send(HttpRequest.newBuilder(uri("/nope")).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(uri(HubHandler.PATH)).DELETE().build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()).isEqualTo(405);
    }

    static final String SUBSCRIPTIONS = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";

    /** The next event whose JSON body is a subscription to {@code topic}. */
    private static java.util.Map<String, Object> nextSubscriptionEvent(RawHttp c, String topic) throws Exception {
        while (true) {
            SseEvent e = c.events(1).getFirst();
            java.util.Map<String, Object> json = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(e.data());
            if (topic.equals(json.get("topic"))) {
                assertThat(e.id()).isNotEmpty();
                return json;
            }
        }
    }

    private HttpResponse<String> get(String pathAndQuery, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri(pathAndQuery));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void activeSubscriptionsAreAnnouncedAsPrivateUpdatesAndListedWithTheirVersion8Ids() throws Exception {
        // compatibility mode 8 (this class's hub): topic= subscriptions keep their v8 ids and topic member in
        // 1.0-shaped documents (MERCURE-1.0.md section 3); SubscriptionEventsHubTest covers 1.0 subscriptions
        String watcherToken = token("{\"mercure\":{\"subscribe\":[\"" + SUBSCRIPTIONS + "\"],\"payload\":{\"role\":\"admin\"}}}");
        RawHttp watcher = subscribe("topic=" + enc(SUBSCRIPTIONS), "Authorization: Bearer " + watcherToken);
        RawHttp anonymousWatcher = subscribe("topic=" + enc(SUBSCRIPTIONS) + "&topic=public");
        awaitSubscribers(2);
        RawHttp reader = subscribe("topic=" + enc(BOOKS) + "&topic=news",
                "Authorization: Bearer " + token("{\"mercure\":{\"subscribe\":[\"news\"],\"payload\":{\"user\":\"Ada\"}}}"));
        awaitSubscribers(3);

        java.util.Map<String, Object> started = nextSubscriptionEvent(watcher, BOOKS);
        String subscriber = (String) started.get("subscriber");
        assertThat(subscriber).matches("urn:uuid:[0-9a-f-]{36}");
        String id = "/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D/"
                + subscriber.replace(":", "%3A");
        assertThat(started).containsExactly(
                java.util.Map.entry("id", id), java.util.Map.entry("type", "subscription"),
                java.util.Map.entry("topic", BOOKS), java.util.Map.entry("subscriber", subscriber),
                java.util.Map.entry("active", true), java.util.Map.entry("payload", java.util.Map.of("user", "Ada")));
        assertThat(nextSubscriptionEvent(watcher, "news")).containsEntry("active", true);

        // the API: a collection, one topic's collection, a single subscription, and what is not there
        String lastId = publish(token(PUBLISHER), "topic", "public", "data", "after the subscriptions").body();
        assertThat(anonymousWatcher.events(1).getFirst().data()).as("subscription updates are private").isEqualTo("after the subscriptions");
        HttpResponse<String> all = get(Subscriptions.PATH, watcherToken);
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.headers().firstValue("content-type")).contains("application/json");
        assertThat(all.headers().firstValue("link")).hasValueSatisfying(l -> assertThat(l).contains("last-event-id=\"" + lastId + "\""));
        java.util.Map<String, Object> collection = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(all.body());
        assertThat(collection).containsEntry("id", Subscriptions.PATH)
                .containsEntry("type", "subscriptions").containsEntry("lastEventID", lastId).doesNotContainKey("@context");
        assertThat((List<?>) collection.get("subscriptions")).hasSize(5); // watcher 1, anonymous watcher 2, reader 2

        String booksPath = Subscriptions.PATH + "/" + Subscriptions.encode(BOOKS);
        java.util.Map<String, Object> books = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(get(booksPath, watcherToken).body());
        assertThat(books).containsEntry("id", booksPath);
        assertThat((List<?>) books.get("subscriptions")).hasSize(1).first()
                .isEqualTo(java.util.Map.of("id", id, "type", "subscription", "topic", BOOKS, "subscriber", subscriber,
                        "active", true, "payload", java.util.Map.of("user", "Ada")));

        java.util.Map<String, Object> single = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(get(id, watcherToken).body());
        assertThat(single).containsEntry("id", id).containsEntry("active", true).doesNotContainKey("@context");
        assertThat(get(booksPath + "/urn%3Auuid%3Anobody", watcherToken).statusCode()).isEqualTo(404);
        assertThat(get(Subscriptions.PATH, null).statusCode()).isEqualTo(401);
        assertThat(get(Subscriptions.PATH, token("{\"mercure\":{\"subscribe\":[\"news\"]}}")).statusCode()).isEqualTo(403);

        // the end of the stream is announced too, and the subscription leaves the list
        reader.close();
        java.util.Map<String, Object> ended = nextSubscriptionEvent(watcher, BOOKS);
        assertThat(ended).containsEntry("id", id).containsEntry("active", false);
        awaitSubscribers(2);
        assertThat(get(id, watcherToken).statusCode()).isEqualTo(404);
    }

    @Test
    void theDemoPageCarriesTheDiscoveryLinkAndTheDemoToken() throws Exception {
        HttpResponse<String> page = get("/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("link")).contains("</.well-known/mercure>; rel=\"mercure\"");
        assertThat(page.body()).contains("<input type=\"text\" id=\"pub-token\" value=\"the-demo-token\">")
                .doesNotContain("{{");
        RawHttp s = subscribe("topic=x");
        assertThat(s.headers).containsEntry("link", "</.well-known/mercure>; rel=\"mercure\"");
    }

    @Test
    void http2CarriesManySubscriptionsOnOneConnection() throws Exception {
        // cleartext: h2c by upgrade; HTTPS: h2 by ALPN
        dev.ssekit.testkit.H2cCheck.run(uri(HubHandler.PATH + "?topic=h2"), broadcaster, 40, tls() ? certificate.clientContext() : null);
    }

    @Test
    void everyRequestIsAccessLoggedOnceWithTokensRedacted() throws Exception {
        java.util.logging.Logger access = java.util.logging.Logger.getLogger(AccessLog.LOGGER);
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        access.addHandler(capture);
        try {
            String secret = token("{\"mercure\":{\"subscribe\":[\"*\"]}}");
            get("/healthz", null);
            RawHttp s = subscribe("topic=x&authorization=" + secret);
            awaitSubscribers(1);
            s.close();
            awaitSubscribers(0);
            get("/nope", null);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lines).hasSize(3));
            assertThat(lines.get(0)).matches("127\\.0\\.0\\.1:\\d+ \"GET /healthz HTTP/1\\.1\" 200 3 \\d+ms");
            assertThat(lines.get(1)).matches("127\\.0\\.0\\.1:\\d+ \"GET /\\.well-known/mercure\\?topic=x&authorization=REDACTED "
                    + "HTTP/1\\.1\" 200 - \\d+ms stream end: client_gone");
            assertThat(lines.get(2)).matches("127\\.0\\.0\\.1:\\d+ \"GET /nope HTTP/1\\.1\" 404 10 \\d+ms");
            assertThat(String.join("\n", lines)).doesNotContain(secret);
        } finally {
            access.removeHandler(capture);
        }
    }
}
