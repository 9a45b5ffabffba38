package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mercure 1.0 subscription events and the subscriptions API over real sockets, on a hub in its
 * default (1.0) mode: a watcher subscribed with the spec's {@code match_urlpattern} receives the
 * exact documents on their exact topics with {@code event: mercure}, and the API answers the
 * documents, 304, 404 and 400 before 401/403.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionEventsHubTest {

    static final String ISSUER = "https://issuer.example";
    static final String HUB = "https://localhost/.well-known/mercure";
    static final String T = AuthorizationDetails.TYPE;
    static final String WATCH = "/.well-known/mercure/subscriptions/:match_type/:match/:subscriber";

    private HubOverSockets fixture;
    private Broadcaster broadcaster;
    private MercureHub hub;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() {
        fixture = HubOverSockets.forSubscriptionEvents();
        broadcaster = fixture.broadcaster;
        hub = fixture.hub;
    }

    @AfterEach
    void stop() throws Exception {
        http.close();
        fixture.close();
    }

    /** A 1.0 access token of the test issuer for the hub, valid for an hour. */
    static String token(String details) throws Exception {
        return hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + HUB + "\",\"sub\":\"t\",\"exp\":"
                + (Instant.now().getEpochSecond() + 3600) + ",\"authorization_details\":" + details + "}", KEY);
    }

    static String detail(String action, String match, String type, String payload) {
        return "{\"type\":\"" + T + "\",\"actions\":[\"" + action + "\"],\"topics\":[{\"match\":\"" + match + "\",\"match_type\":\"" + type
                + "\"}]" + (payload == null ? "" : ",\"payload\":" + payload) + "}";
    }

    private RawHttp subscribe(String query, String... headers) throws Exception {
        return fixture.subscribe(query, headers);
    }

    private HttpResponse<String> get(String path, String token, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.address().getPort() + path))
                .timeout(Duration.ofSeconds(20));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitSubscribers(int n) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(broadcaster.stats().connections()).isEqualTo(n));
    }

    static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    /** The next event on the stream about a subscription with this match; checks it is a hub event. */
    private static SseEvent next(RawHttp c, String match) throws Exception {
        return HubOverSockets.next(c, match);
    }

    private static Map<String, Object> document(String type, String match, String subscriber, boolean active, Object payload) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", Subscriptions.PATH + "/" + type + "/" + Subscriptions.encode(match) + "/" + Subscriptions.encode(subscriber));
        m.put("type", "subscription");
        m.put("match_type", type);
        m.put("match", match);
        m.put("subscriber", subscriber);
        m.put("active", active);
        if (payload != null) {
            m.put("payload", payload);
        }
        return m;
    }

    @Test
    void aWatcherReceivesEachSubscriptionsStartAndEndAndTheApiListsIt() throws Exception {
        String watcherToken = token("[" + detail("subscribe", WATCH, "urlpattern", null) + ","
                + detail("subscribe", Subscriptions.PATH + "/*", "urlpattern", null) + ","
                + detail("subscribe", Subscriptions.PATH, "exact", null) + "]");
        RawHttp watcher = subscribe("match_urlpattern=" + enc(WATCH), "Authorization: Bearer " + watcherToken);
        RawHttp anonymousWatcher = subscribe("match_urlpattern=" + enc(WATCH) + "&match=public");
        awaitSubscribers(2);
        String book = "https://example.com/books/1";
        String pattern = "https://example.com/authors/:id";
        RawHttp reader = subscribe("match=" + enc(book) + "&match_urlpattern=" + enc(pattern), "Authorization: Bearer "
                + token("[" + detail("subscribe", pattern, "urlpattern", "{\"user\":\"Ada\"}") + ","
                        + detail("subscribe", "*", "exact", "{\"user\":\"default\"}") + "]"));
        awaitSubscribers(3);

        SseEvent bookStarted = next(watcher, book);
        Map<String, Object> bookDoc = JSON.std.mapFrom(bookStarted.data());
        String subscriber = (String) bookDoc.get("subscriber");
        assertThat(subscriber).matches("urn:uuid:[0-9a-f-]{36}");
        assertThat(bookDoc).containsExactlyEntriesOf(document("exact", book, subscriber, true, Map.of("user", "default")));
        assertThat(bookDoc.get("id")).isEqualTo("/.well-known/mercure/subscriptions/exact/https%3A%2F%2Fexample.com%2Fbooks%2F1/"
                + subscriber.replace(":", "%3A"));
        assertThat(JSON.std.mapFrom(next(watcher, pattern).data()))
                .containsExactlyEntriesOf(document("urlpattern", pattern, subscriber, true, Map.of("user", "Ada")));

        // private: the anonymous watcher gets the public update, not the subscription events before it
        HttpResponse<String> published = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.address().getPort()
                + MercureProtocol.PATH)).header("Authorization", "Bearer " + token("[" + detail("publish", "*", "exact", null) + "]"))
                .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString("topic=public&data=hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(published.statusCode()).isEqualTo(200);
        assertThat(anonymousWatcher.events(1).getFirst().data()).isEqualTo("hello");

        // the API: the collection, one matcher's collection, one subscription; 304; 404; 400 before 401 and 403
        HttpResponse<String> all = get(Subscriptions.PATH, watcherToken);
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.headers().firstValue("content-type")).contains("application/json");
        assertThat(all.headers().firstValue("link")).contains("</.well-known/mercure>; rel=\"mercure\"; last-event-id=\""
                + published.body() + "\"; type=\"mercure\"; content-type=\"application/json\"");
        Map<String, Object> collection = JSON.std.mapFrom(all.body());
        assertThat(collection).containsEntry("id", Subscriptions.PATH).containsEntry("type", "subscriptions");
        assertThat(SubscriptionEventsProtocolTest.rows(collection.get("subscriptions"))).hasSize(5) // the watcher's 1, the anonymous one's 2, the reader's 2
                .contains(document("exact", book, subscriber, true, Map.of("user", "default")));
        String byMatch = Subscriptions.PATH + "/urlpattern/" + Subscriptions.encode(pattern);
        assertThat(JSON.std.mapFrom(get(byMatch, watcherToken).body())).containsEntry("id", byMatch)
                .containsEntry("subscriptions", List.of(document("urlpattern", pattern, subscriber, true, Map.of("user", "Ada"))));
        String single = (String) bookDoc.get("id");
        HttpResponse<String> one = get(single, watcherToken);
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(JSON.std.mapFrom(one.body())).containsExactlyEntriesOf(document("exact", book, subscriber, true, Map.of("user", "default")));
        String etag = one.headers().firstValue("etag").orElseThrow();
        assertThat(get(single, watcherToken, "If-None-Match", etag).statusCode()).isEqualTo(304);
        assertThat(get(byMatch + "/urn%3Auuid%3Anobody", watcherToken).statusCode()).isEqualTo(404);
        assertThat(get(Subscriptions.PATH + "/regex/x/y", null).statusCode()).isEqualTo(400);
        assertThat(get(Subscriptions.PATH + "/exact/%E2%28/y", null).statusCode()).isEqualTo(400);
        String narrow = token("[" + detail("subscribe", "news", "exact", null) + "]");
        assertThat(get(Subscriptions.PATH + "/regex/x", narrow).statusCode()).isEqualTo(400);
        assertThat(get(single, null).statusCode()).isEqualTo(401);
        assertThat(get(single, narrow).statusCode()).isEqualTo(403);

        // the end: active false on the same topics, then gone from the API
        reader.close();
        assertThat(JSON.std.mapFrom(next(watcher, book).data())).containsExactlyEntriesOf(document("exact", book, subscriber, false,
                Map.of("user", "default")));
        assertThat(JSON.std.mapFrom(next(watcher, pattern).data())).containsExactlyEntriesOf(document("urlpattern", pattern, subscriber,
                false, Map.of("user", "Ada")));
        awaitSubscribers(2);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get(single, watcherToken).statusCode()).isEqualTo(404));
    }
}
