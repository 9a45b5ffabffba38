package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseEvent;
import dev.ssekit.SseParser;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Mercure endpoints over real HTTP: publishers with java.net.http, subscribers read byte-exact. */
@Timeout(60)
class MercureHubTest {

    static final String BOOKS = "https://example.com/books/{id}";
    static final String PUBLISHER = "{\"mercure\":{\"publish\":[\"*\"]}}";

    private Broadcaster broadcaster;
    private MercureHub hub;
    private HttpClient http;
    private final List<RawHttp> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        JwtVerifier key = JwtVerifier.hs256(KEY, Duration.ZERO);
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true,
                Set.of("https://app.example.com"), 64 * 1024, 100, 50), broadcaster, Scheduler.system(), Clock.systemUTC());
        http = HttpClient.newHttpClient();
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
        return URI.create("http://127.0.0.1:" + hub.address().getPort() + pathAndQuery);
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
        RawHttp c = RawHttp.get(hub.address(), HubHandler.PATH + "?" + query, "HTTP/1.1", headers);
        clients.add(c);
        return c;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    /** Waits until the hub has this many subscribers (subscriptions start just after the response head). */
    private void awaitSubscribers(int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (broadcaster.stats().connections() < n && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(broadcaster.stats().connections()).isEqualTo(n);
    }

    private static SseEvent nextEvent(RawHttp c) throws Exception {
        List<SseEvent> got = new ArrayList<>();
        SseParser p = SseParser.create(got::add);
        while (got.isEmpty()) {
            p.feed(c.readEvent().getBytes(UTF_8));
        }
        return got.getFirst();
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
        assertThat(nextEvent(anonymous).data()).isEqualTo("public");
        assertThat(nextEvent(reader).data()).isEqualTo("secret");
        assertThat(nextEvent(reader).data()).isEqualTo("public");
    }

    @Test
    void reconnectionWithLastEventIdHeaderOrQueryParameter() throws Exception {
        String first = publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "one").body();
        publish(token(PUBLISHER), "topic", "https://example.com/books/1", "data", "two");
        RawHttp byHeader = subscribe("topic=" + enc(BOOKS), "Last-Event-ID: " + first);
        assertThat(byHeader.headers).containsEntry("last-event-id", first);
        assertThat(nextEvent(byHeader).data()).isEqualTo("two");
        RawHttp byQuery = subscribe("topic=" + enc(BOOKS) + "&lastEventID=" + enc(first));
        assertThat(byQuery.headers).containsEntry("last-event-id", first);
        assertThat(nextEvent(byQuery).data()).isEqualTo("two");
        RawHttp earliest = subscribe("topic=" + enc(BOOKS) + "&lastEventID=earliest");
        assertThat(earliest.headers).containsEntry("last-event-id", "earliest");
        assertThat(nextEvent(earliest).data()).isEqualTo("one");
        RawHttp unknown = subscribe("topic=" + enc(BOOKS), "Last-Event-ID: not-an-id");
        assertThat(unknown.headers).as("unknown id: replay starts at the earliest").containsEntry("last-event-id", "earliest");
        assertThat(nextEvent(unknown).data()).isEqualTo("one");
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
        assertThat(publish(t, "topic", HubHandler.PATH + "/subscriptions/x").statusCode()).isEqualTo(403);
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
        assertThat(nextEvent(s).data()).isEqualTo("m");
        String metrics = http.send(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("# TYPE ssekit_connections gauge\nssekit_connections 1\n")
                .contains("ssekit_published_total 1\n")
                .contains("ssekit_evictions_total{reason=\"slow_consumer\"} 0\n")
                .contains("ssekit_history_events 1\n");
    }

    @Test
    void aSubscriptionEndsWhenItsTokenExpires() throws Exception {
        long exp = java.time.Instant.now().getEpochSecond() + 2;
        RawHttp s = subscribe("topic=x", "Authorization: Bearer " + token("{\"exp\":" + exp + ",\"mercure\":{\"subscribe\":[\"*\"]}}"));
        assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
        // the stream ends (after the close event) once exp has passed
        assertThat(s.readToEnd()).startsWith(":\n").endsWith("event: close\ndata: Closing the connection\n\n");
        assertThat(java.time.Instant.now().getEpochSecond()).isGreaterThanOrEqualTo(exp);
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
}
