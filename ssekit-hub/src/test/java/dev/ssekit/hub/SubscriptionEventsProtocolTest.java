package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static dev.ssekit.hub.Mercure10ProtocolTest.HUB;
import static dev.ssekit.hub.Mercure10ProtocolTest.ISSUER;
import static dev.ssekit.hub.Mercure10ProtocolTest.config;
import static dev.ssekit.hub.Mercure10ProtocolTest.enc;
import static dev.ssekit.hub.Mercure10ProtocolTest.grant;
import static dev.ssekit.hub.Mercure10ProtocolTest.request;
import static dev.ssekit.hub.Mercure10ProtocolTest.subscribe;
import static dev.ssekit.hub.Mercure10ProtocolTest.token;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mercure 1.0 subscription events and subscriptions API without a server (MERCURE-1.0.md §1 rows
 * 45-52, §3 for compatibility mode 8): the events' topics and documents, the API's paths,
 * documents, cursor and statuses, and which payload each subscription shows.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionEventsProtocolTest {

    /** The watcher pattern of the spec's "Active Subscriptions" examples. */
    static final String WATCH = "/.well-known/mercure/subscriptions/:match_type/:match/:subscriber";

    private final Broadcaster broadcaster = Broadcaster.create();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Subscriptions> subscriptions = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        subscriptions.forEach(Subscriptions::close);
        broadcaster.close();
    }

    private MercureProtocol protocol(HubConfig config) {
        Subscriptions s = new Subscriptions(broadcaster, config.subscriptionEvents());
        subscriptions.add(s);
        return new MercureProtocol(config, broadcaster, s, new TopicSelectorStore(1_000), Scheduler.system(),
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private final MercureProtocol modern = protocol(config(HubConfig.Protocol.modern(ISSUER, JwtVerifier.secret(KEY),
            JwtVerifier.secret(KEY), HUB), true));

    /** A watcher's token: subscribe on every subscription event topic and API path. */
    private static final String WATCHER = token("[" + grant("subscribe", WATCH, "urlpattern", Subscriptions.PATH, "exact",
            Subscriptions.PATH + "/*", "urlpattern") + "]");

    private record Open(SseConnection connection, BufferTransport transport) {
    }

    private Open open(MercureProtocol p, HubRequest r) throws Exception {
        MercureProtocol.Decision d = decided(p.handle(r));
        assertThat(d).as("a stream, not %s", d instanceof MercureProtocol.Reply reply
                ? reply.response().status() + " " + reply.response().bodyText() : "").isInstanceOf(MercureProtocol.Stream.class);
        BufferTransport t = new BufferTransport();
        SseConnection conn = Sse.open(t);
        toClose.add(conn);
        ((MercureProtocol.Stream) d).open(conn, Runnable::run);
        return new Open(conn, t);
    }

    private static MercureProtocol.Decision decided(CompletionStage<MercureProtocol.Decision> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static HubResponse answer(MercureProtocol p, HubRequest r) throws Exception {
        MercureProtocol.Decision d = decided(p.handle(r));
        assertThat(d).isInstanceOf(MercureProtocol.Reply.class);
        return ((MercureProtocol.Reply) d).response();
    }

    private static HubResponse get(MercureProtocol p, String path, String token, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of(headers));
        if (token != null) {
            all.add("Authorization");
            all.add("Bearer " + token);
        }
        return answer(p, request("GET", path, "", all.toArray(String[]::new)));
    }

    /** One SSE frame of a stream: its event name and its data (one line). */
    record Frame(String event, String id, String data) {
    }

    /** The frames written so far whose data is a JSON document naming {@code subscriber}. */
    static List<Frame> frames(String text, String subscriber) {
        List<Frame> out = new ArrayList<>();
        for (String block : text.split("\n\n")) {
            String event = "message";
            String id = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
            if (data.toString().contains("\"subscriber\":\"" + subscriber + "\"")) {
                out.add(new Frame(event, id, data.toString()));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked") // parsed JSON arrays
    static List<Object> rows(Object array) {
        return (List<Object>) array;
    }

    static Map<String, Object> json(String s) throws Exception {
        return JSON.std.mapFrom(s);
    }

    /**
     * Waits until the stream holds {@code n} subscription events of the subscriber one of whose
     * events has this {@code match} (or v8 {@code topic}); returns them.
     */
    private static List<Frame> events(BufferTransport t, String match, int n) throws Exception {
        return t.await(text -> {
            try {
                String subscriber = subscriberOf(text, match);
                List<Frame> frames = subscriber == null ? List.of() : frames(text, subscriber);
                return frames.size() >= n ? frames : null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String subscriberOf(String text, String match) throws Exception {
        for (String block : text.split("\n\n")) {
            int at = block.indexOf("data: ");
            if (at >= 0 && block.substring(at).startsWith("data: {")) {
                Map<String, Object> doc = json(block.substring(at + 6));
                if (match.equals(doc.get("match")) || match.equals(doc.get("topic"))) {
                    return (String) doc.get("subscriber");
                }
            }
        }
        return null;
    }

    /** The document of the spec, keys in its order (L1042-1061). */
    private static Map<String, Object> document(String type, String match, String subscriber, boolean active, Object payload) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", "/.well-known/mercure/subscriptions/" + type + "/" + Subscriptions.encode(match) + "/"
                + Subscriptions.encode(subscriber));
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

    /** Rows 45-47: topic, document, private, event: mercure; announced after the subscriber is added, false after removal. */
    @Test
    void subscriptionEventsAreOneZeroDocumentsOnTheirOwnTopics() throws Exception {
        Open watcher = open(modern, subscribe("match_urlpattern=" + enc(WATCH), "Authorization", "Bearer " + WATCHER));
        Open anonymousWatcher = open(modern, subscribe("match_urlpattern=" + enc(WATCH)));
        // a match with reserved characters, a % and a space: each variable encoded exactly once (row 45)
        String odd = "a b%2F/c:d?é";
        Open s = open(modern, subscribe("match=" + enc(odd) + "&match_urlpattern=" + enc("https://example.com/:x"),
                "Authorization", "Bearer " + token("[" + grant("subscribe", "*", "exact") + "]")));
        List<Frame> started = events(watcher.transport(), odd, 2);
        String subscriber = (String) json(started.getFirst().data()).get("subscriber");
        assertThat(subscriber).matches("urn:uuid:[0-9a-f-]{36}");
        assertThat(started).hasSize(2);
        for (Frame f : started) {
            assertThat(f.event()).as("row 47").isEqualTo("mercure");
        }
        assertThat(JSON.std.mapFrom(started.get(0).data())).as("row 46, in the spec's key order").containsExactlyEntriesOf(
                document("exact", odd, subscriber, true, null));
        assertThat(started.get(0).data()).contains("\"id\":\"/.well-known/mercure/subscriptions/exact/a%20b%252F%2Fc%3Ad%3F%C3%A9/urn%3Auuid%3A");
        assertThat(JSON.std.mapFrom(started.get(1).data())).containsExactlyEntriesOf(
                document("urlpattern", "https://example.com/:x", subscriber, true, null));

        s.connection().close();
        List<Frame> ended = events(watcher.transport(), odd, 4).subList(2, 4);
        assertThat(JSON.std.mapFrom(ended.get(0).data())).containsExactlyEntriesOf(document("exact", odd, subscriber, false, null));
        assertThat(JSON.std.mapFrom(ended.get(1).data())).containsExactlyEntriesOf(
                document("urlpattern", "https://example.com/:x", subscriber, false, null));
        // private: an anonymous watcher gets none of them
        assertThat(anonymousWatcher.transport().text()).doesNotContain("subscription");
    }

    /** Row 52: each subscription shows the payload of the first subscribe detail whose topics match its own matcher. */
    @Test
    void eachSubscriptionShowsThePayloadOfTheFirstDetailMatchingItsOwnMatcher() throws Exception {
        String details = "[{\"type\":\"" + AuthorizationDetails.TYPE + "\",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":"
                + "\"https://example.com/:x\",\"match_type\":\"urlpattern\"}],\"payload\":{\"p\":\"specific\"}},"
                + "{\"type\":\"" + AuthorizationDetails.TYPE + "\",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"other\"}],"
                + "\"payload\":{\"p\":\"not a subscribe detail\"}},"
                + "{\"type\":\"" + AuthorizationDetails.TYPE + "\",\"actions\":[\"subscribe\"],\"topics\":[{\"match\":\"*\"}],"
                + "\"payload\":{\"p\":\"default\"}}]";
        Open watcher = open(modern, subscribe("match_urlpattern=" + enc(WATCH), "Authorization", "Bearer " + WATCHER));
        open(modern, subscribe("match=other&match=" + enc("https://example.com/1") + "&match_urlpattern=" + enc("https://example.com/:x")
                + "&match=" + enc("https://example.com/a/b"), "Authorization", "Bearer " + token(details)));
        List<Frame> started = events(watcher.transport(), "other", 4);
        String subscriber = (String) json(started.getFirst().data()).get("subscriber");
        Map<String, Object> payloads = new LinkedHashMap<>();
        for (Frame f : started) {
            Map<String, Object> doc = json(f.data());
            payloads.put(doc.get("match_type") + " " + doc.get("match"), doc.get("payload"));
        }
        assertThat(payloads).isEqualTo(Map.of(
                "exact other", Map.of("p", "default"),
                "exact https://example.com/1", Map.of("p", "specific"),
                // the pattern string itself, taken as a topic, matches the detail's pattern (L860-863)
                "urlpattern https://example.com/:x", Map.of("p", "specific"),
                "exact https://example.com/a/b", Map.of("p", "default")));
        // the API shows the same payloads
        Map<String, Object> one = json(get(modern, "/.well-known/mercure/subscriptions/exact/" + Subscriptions.encode("https://example.com/1")
                + "/" + Subscriptions.encode(subscriber), WATCHER).bodyText());
        assertThat(one).containsEntry("payload", Map.of("p", "specific"));
    }

    /** Rows 49-51: the three paths, the documents, the Link cursor, ETag and 304, 404, and 400 before 401/403. */
    @Test
    void theSubscriptionsApiServesTheOneZeroPathsAndDocuments() throws Exception {
        Open s = open(modern, subscribe("match=" + enc("https://example.com/books/1") + "&match_urlpattern=" + enc("/books/:id"),
                "Authorization", "Bearer " + token("[{\"type\":\"" + AuthorizationDetails.TYPE + "\",\"actions\":[\"subscribe\"],"
                        + "\"topics\":[{\"match\":\"*\"}],\"payload\":{\"user\":\"Ada\"}}]")));
        broadcaster.publish(SseMessage.builder().id("cursor \"1\"").data("x").build(), "a");
        HubResponse all = get(modern, Subscriptions.PATH, WATCHER);
        assertThat(all.status()).as(all.bodyText()).isEqualTo(200);
        assertThat(all.headers()).containsEntry("Content-Type", "application/json")
                .containsEntry("Link", "</.well-known/mercure>; rel=\"mercure\"; last-event-id=\"cursor \\\"1\\\"\"; type=\"mercure\"; "
                        + "content-type=\"application/json\"")
                .containsKey("ETag");
        Map<String, Object> collection = json(all.bodyText());
        assertThat(collection.keySet()).containsExactly("id", "type", "subscriptions");
        assertThat(collection).containsEntry("id", Subscriptions.PATH).containsEntry("type", "subscriptions");
        List<Object> rows = rows(collection.get("subscriptions"));
        assertThat(rows).hasSize(2);
        String subscriber = (String) ((Map<?, ?>) rows.getFirst()).get("subscriber");
        Map<String, Object> books = document("exact", "https://example.com/books/1", subscriber, true, Map.of("user", "Ada"));
        Map<String, Object> pattern = document("urlpattern", "/books/:id", subscriber, true, Map.of("user", "Ada"));
        assertThat(rows).containsExactly(books, pattern);

        // one matcher's collection: its type and its match, exactly
        String byMatch = Subscriptions.PATH + "/exact/" + Subscriptions.encode("https://example.com/books/1");
        Map<String, Object> matchCollection = json(get(modern, byMatch, WATCHER).bodyText());
        assertThat(matchCollection).containsEntry("id", byMatch).containsEntry("type", "subscriptions");
        assertThat(rows(matchCollection.get("subscriptions"))).containsExactly(books);
        assertThat(rows(json(get(modern, Subscriptions.PATH + "/urlpattern/" + Subscriptions.encode("https://example.com/books/1"),
                WATCHER).bodyText()).get("subscriptions"))).isEmpty();

        // a single subscription: the event document as is
        HubResponse single = get(modern, (String) books.get("id"), WATCHER);
        assertThat(single.status()).isEqualTo(200);
        assertThat(single.headers()).containsEntry("Content-Type", "application/json").containsKey("Link");
        assertThat(json(single.bodyText())).containsExactlyEntriesOf(books);
        HubResponse notModified = get(modern, (String) books.get("id"), WATCHER, "If-None-Match", single.headers().get("ETag"));
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();

        // unknown: 404; wrong shapes: 400 before the token is looked at; no grant: 403
        assertThat(get(modern, Subscriptions.PATH + "/exact/" + Subscriptions.encode("https://example.com/books/1") + "/urn%3Auuid%3Anobody",
                WATCHER).status()).isEqualTo(404);
        for (String bad : List.of("/regex/a", "/regex/a/b", "/Exact/a/b", "/exact/%E2%28", "/exact/a/%C3")) {
            assertThat(get(modern, Subscriptions.PATH + bad, null).status()).as(bad + " without a token").isEqualTo(400);
            assertThat(get(modern, Subscriptions.PATH + bad, token("[" + grant("subscribe", "x", "exact") + "]")).status())
                    .as(bad + " without a grant").isEqualTo(400);
        }
        assertThat(get(modern, byMatch, null).status()).isEqualTo(401);
        assertThat(get(modern, byMatch, token("[" + grant("subscribe", "x", "exact") + "]")).status()).isEqualTo(403);
        // the 0.x one-segment path is not a 1.0 route
        assertThat(get(modern, Subscriptions.PATH + "/" + Subscriptions.encode("https://example.com/books/1"), WATCHER).status())
                .isEqualTo(404);
        // the path alone is the topic authorized (L1104-1121): an exact grant on it, whatever the query
        String exactGrant = token("[" + grant("subscribe", byMatch, "exact") + "]");
        assertThat(get(modern, byMatch + "?last_event_id=x", exactGrant).status()).isEqualTo(200);
        assertThat(get(modern, Subscriptions.PATH, exactGrant).status()).isEqualTo(403);

        s.connection().close();
        await404(modern, (String) books.get("id"));
    }

    /**
     * Row 51: the cursor of the API's {@code Link}, passed back as {@code last_event_id} when
     * subscribing to the events (L1143-1147), loses no subscription event made between the listing
     * and the subscription.
     */
    @Test
    void theApisCursorResumesTheSubscriptionEventsMadeSinceTheListing() throws Exception {
        broadcaster.publish(SseMessage.builder().id("c1").data("x").build(), "a");
        HubResponse list = get(modern, Subscriptions.PATH, WATCHER);
        assertThat(list.headers().get("Link")).contains("last-event-id=\"c1\"");
        assertThat(rows(json(list.bodyText()).get("subscriptions"))).isEmpty();
        // a subscription starts (and is announced) after the listing, before the watcher subscribes
        open(modern, subscribe("match=between"));
        dev.ssekit.spi.EventLog announced = subscriptions.getFirst().announcements().log();
        for (int i = 0; i < 500 && announced.size() < 1; i++) {
            Thread.sleep(10);
        }
        assertThat(announced.size()).as("announced").isEqualTo(1);
        Open watcher = open(modern, subscribe("match_urlpattern=" + enc(WATCH) + "&last_event_id=c1", "Authorization", "Bearer " + WATCHER));
        // its own subscription's event is live: whatever is replayed comes before it
        String text = watcher.transport().await("\"match\":\"" + WATCH + "\"");
        assertThat(text).as("the event of the subscription made since the listing").contains("\"match\":\"between\"");
    }

    /**
     * Row 51: the ETag changes when the subscriptions do, not only when an update is published (the
     * subscription events have a history of their own: the hub's newest event id stays the same).
     */
    @Test
    void theEtagChangesWhenASubscriptionStartsOrEndsWithoutAPublish() throws Exception {
        broadcaster.publish(SseMessage.builder().id("e1").data("x").build(), "a");
        HubResponse before = get(modern, Subscriptions.PATH, WATCHER);
        String etag = before.headers().get("ETag");
        assertThat(get(modern, Subscriptions.PATH, WATCHER, "If-None-Match", etag).status()).isEqualTo(304);
        Open s = open(modern, subscribe("match=new"));
        HubResponse after = get(modern, Subscriptions.PATH, WATCHER, "If-None-Match", etag);
        assertThat(after.status()).as("a subscription started: the cached listing is stale").isEqualTo(200);
        assertThat(rows(json(after.bodyText()).get("subscriptions"))).hasSize(1);
        assertThat(after.headers().get("ETag")).isNotEqualTo(etag);
        assertThat(get(modern, Subscriptions.PATH, WATCHER, "If-None-Match", after.headers().get("ETag")).status()).isEqualTo(304);
        s.connection().close();
        int status = 304;
        for (int i = 0; i < 200 && status == 304; i++) { // the end may be run on another thread
            status = get(modern, Subscriptions.PATH, WATCHER, "If-None-Match", after.headers().get("ETag")).status();
            Thread.sleep(status == 304 ? 10 : 0);
        }
        assertThat(status).as("the subscription ended").isEqualTo(200);
    }

    private static void await404(MercureProtocol p, String path) throws Exception {
        for (int i = 0; i < 200 && get(p, path, WATCHER).status() != 404; i++) {
            Thread.sleep(20);
        }
        assertThat(get(p, path, WATCHER).status()).as("ended: no longer listed").isEqualTo(404);
    }

    /** §3: compatibility mode 8 keeps the v8 ids, the topic field and the v8 routes for topic= subscriptions. */
    @Test
    void compatibilityModeKeepsTheVersion8IdsForTopicSubscriptions() throws Exception {
        MercureProtocol compat = protocol(config(HubConfig.Protocol.compatible(JwtVerifier.secret(KEY), JwtVerifier.secret(KEY)), true));
        String reader = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"/.well-known/mercure/subscriptions{/topic}{/subscriber}\","
                + "\"/.well-known/mercure/subscriptions\",\"/.well-known/mercure/subscriptions/{a}/{b}/{c}\"],\"payload\":{\"u\":1}}}");
        Open watcher = open(compat, subscribe("topic=" + enc("/.well-known/mercure/subscriptions{/topic}{/subscriber}"),
                "Authorization", "Bearer " + reader));
        String topic = "https://example.com/books/{id}";
        open(compat, subscribe("topic=" + enc(topic) + "&match=" + enc("https://example.com/x"), "Authorization", "Bearer " + reader));
        // the watcher's template matches both ids: the v8 one and the 1.0 one
        List<Frame> started = events(watcher.transport(), topic, 2);
        String subscriber = (String) json(started.getFirst().data()).get("subscriber");
        assertThat(started).extracting(Frame::event).containsOnly("mercure");
        started = started.stream().filter(f -> f.data().contains("\"topic\":")).toList();
        String v8 = "/.well-known/mercure/subscriptions/" + Subscriptions.encode(topic) + "/" + Subscriptions.encode(subscriber);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("id", v8);
        expected.put("type", "subscription");
        expected.put("topic", topic);
        expected.put("subscriber", subscriber);
        expected.put("active", true);
        expected.put("payload", Map.of("u", 1));
        assertThat(json(started.getFirst().data())).containsExactlyEntriesOf(expected);
        // both shapes in one collection; the v8 routes; a 2-segment path is 1.0 when its first segment is a type
        List<Object> rows = rows(json(get(compat, Subscriptions.PATH, reader).bodyText()).get("subscriptions"));
        assertThat(rows).contains(expected, document("exact", "https://example.com/x", subscriber, true, Map.of("u", 1)));
        HubResponse single = get(compat, v8, reader);
        assertThat(single.status()).isEqualTo(200);
        assertThat(single.headers()).containsEntry("Content-Type", "application/json");
        assertThat(json(single.bodyText())).containsAllEntriesOf(expected);
        List<Object> byTopic = rows(json(get(compat, Subscriptions.PATH + "/" + Subscriptions.encode(topic), reader).bodyText())
                .get("subscriptions"));
        assertThat(byTopic).containsExactly(expected);
        List<Object> byMatch = rows(json(get(compat, Subscriptions.PATH + "/exact/" + Subscriptions.encode("https://example.com/x"), reader)
                .bodyText()).get("subscriptions"));
        assertThat(byMatch).containsExactly(document("exact", "https://example.com/x", subscriber, true, Map.of("u", 1)));
        assertThat(get(compat, Subscriptions.PATH + "/" + Subscriptions.encode(topic) + "/urn%3Auuid%3Anobody", reader).status())
                .isEqualTo(404);
        assertThat(get(compat, Subscriptions.PATH + "/regex/a/b", reader).status()).isEqualTo(400);
    }
}
