package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Mercure protocol in compatibility mode 8 (0.x clients: {@code topic=}, {@code mercure} claims,
 * {@code lastEventID}; the hub's behaviour before issue #24) without a server: {@link HubRequest}s in, decisions out, over a real
 * broadcaster, publisher, subscription registry, selector store and HMAC verifier. Everything that
 * does not wait for a store must be decided before {@code handle} returns.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MercureProtocolTest {

    private static final String APP = "https://app.example.com";
    private static final String BOOK = "https://example.com/books/1";
    private static final String PUBLISH_ALL = tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]}}");
    private static final String SUBSCRIBE_ALL = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"*\"]}}");
    private static final String SUBSCRIPTIONS_READER = tokenUnchecked(
            "{\"mercure\":{\"subscribe\":[\"" + Subscriptions.PATH + "{/topic}{/subscriber}\"]}}");

    private final Broadcaster broadcaster = Broadcaster.create();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        broadcaster.close();
    }

    /** Settings varied by the tests. */
    private record Settings(boolean anonymous, int maxTopics, int maxConnections, boolean subscriptions, boolean demo) {
        static Settings defaults() {
            return new Settings(true, 10, 100, true, false);
        }

        Settings anonymous(boolean on) {
            return new Settings(on, maxTopics, maxConnections, subscriptions, demo);
        }

        Settings maxTopics(int n) {
            return new Settings(anonymous, n, maxConnections, subscriptions, demo);
        }

        Settings maxConnections(int n) {
            return new Settings(anonymous, maxTopics, n, subscriptions, demo);
        }

        Settings subscriptions(boolean on) {
            return new Settings(anonymous, maxTopics, maxConnections, on, demo);
        }

        Settings demo(boolean on) {
            return new Settings(anonymous, maxTopics, maxConnections, subscriptions, on);
        }
    }

    private MercureProtocol protocol(Settings s) {
        return protocol(s, broadcaster);
    }

    private MercureProtocol protocol(Settings s, Broadcaster b) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        HubConfig config = new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, s.anonymous(), Set.of(APP), 64 * 1024,
                s.maxTopics(), s.maxConnections(), s.subscriptions(), s.demo(), "the-demo-token", Duration.ofSeconds(10), Optional.empty())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token")));
        return new MercureProtocol(config, b, new Subscriptions(b, s.subscriptions()), new TopicSelectorStore(1_000),
                Scheduler.system(), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private final MercureProtocol protocol = protocol(Settings.defaults());

    // ---- requests

    /** A request for a target as sent ({@code /path?query}), with header name/value pairs. */
    private static HubRequest request(String method, String target, String body, String... headerPairs) {
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String rawQuery = q < 0 ? "" : target.substring(q + 1);
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(Locale.ROOT), headerPairs[i + 1]);
        }
        String path = URLDecoder.decode(rawPath.replace("+", "%2B"), UTF_8);
        return new HubRequest(method, path, rawPath, rawQuery, headers, body.getBytes(UTF_8));
    }

    private static HubRequest get(String target, String... headers) {
        return request("GET", target, "", headers);
    }

    private static HubRequest post(String body, String... headers) {
        return request("POST", MercureProtocol.PATH, body, headers);
    }

    private static HubRequest publish(String token, String body) {
        return post(body, "Authorization", "Bearer " + token, "Content-Type", "application/x-www-form-urlencoded");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    private static String form(String... pairs) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pairs.length; i += 2) {
            b.append(b.isEmpty() ? "" : "&").append(enc(pairs[i])).append('=').append(enc(pairs[i + 1]));
        }
        return b.toString();
    }

    private static String subscribeTarget(String... topics) {
        StringBuilder b = new StringBuilder(MercureProtocol.PATH);
        for (String t : topics) {
            b.append(b.indexOf("?") < 0 ? '?' : '&').append("topic=").append(enc(t));
        }
        return b.toString();
    }

    // ---- decisions

    /**
     * The decision, made without waiting on anything outside the hub: before handle returned, or, for a
     * subscription whose selectors are not compiled yet, on the hub's compiler threads (issue #28).
     */
    private static MercureProtocol.Decision now(CompletionStage<MercureProtocol.Decision> stage) {
        CompletableFuture<MercureProtocol.Decision> f = stage.toCompletableFuture();
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // asserted below
        }
        assertThat(f).as("decided without waiting").isDone();
        assertThat(f).as("the stage always completes normally").isNotCompletedExceptionally();
        return f.join();
    }

    private static MercureProtocol.Decision later(CompletionStage<MercureProtocol.Decision> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static HubResponse reply(MercureProtocol.Decision d) {
        assertThat(d).isInstanceOf(MercureProtocol.Reply.class);
        return ((MercureProtocol.Reply) d).response();
    }

    private static MercureProtocol.Stream stream(MercureProtocol.Decision d) {
        assertThat(d).as("a stream, not %s", d instanceof MercureProtocol.Reply r ? r.response().status() + " " + r.response().bodyText() : "")
                .isInstanceOf(MercureProtocol.Stream.class);
        return (MercureProtocol.Stream) d;
    }

    private HubResponse answer(HubRequest r) {
        return reply(now(protocol.handle(r)));
    }

    private HubResponse answer(MercureProtocol p, HubRequest r) {
        return reply(now(p.handle(r)));
    }

    private static void assertStatus(HubResponse r, int status) {
        assertThat(r.status()).as("%s", r.bodyText()).isEqualTo(status);
    }

    // ---- publishing

    @Test
    void publishAnswersTheIdAndTheEventIsInHistory() throws Exception {
        HubResponse r = reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "hello", "id", "book-1")))));
        assertStatus(r, 200);
        assertThat(r.bodyText()).isEqualTo("book-1");
        assertThat(r.headers()).containsEntry("Content-Type", "text/plain; charset=utf-8")
                .containsEntry("Link", "</.well-known/mercure>; rel=\"mercure\"");
        assertThat(broadcaster.lastEventId()).contains("book-1");
        assertThat(broadcaster.resumePoint("book-1")).isEqualTo("book-1");

        // without an id the hub makes one, and answers that
        HubResponse generated = reply(later(protocol.handle(publish(PUBLISH_ALL,
                form("topic", BOOK, "topic", "https://example.com/authors/1", "data", "line 1\nline 2", "type", "update", "retry", "1500")))));
        assertStatus(generated, 200);
        assertThat(generated.bodyText()).isNotBlank().isNotEqualTo("book-1");
        assertThat(broadcaster.lastEventId()).contains(generated.bodyText());
        assertThat(broadcaster.stats().published()).isEqualTo(2);
    }

    @Test
    void publishingNeedsAValidBearerToken() {
        String body = form("topic", BOOK, "data", "x");
        String otherKey = new TestKey(com.nimbusds.jose.JWSAlgorithm.HS256,
                "another-secret-that-is-32-bytes-long!".getBytes(UTF_8), null).sign("{\"mercure\":{\"publish\":[\"*\"]}}");
        for (HubRequest r : List.of(post(body), post(body, "Authorization", "Bearer not-a-token"),
                post(body, "Authorization", "Bearer " + otherKey), post(body, "Authorization", "Basic " + PUBLISH_ALL),
                post(body, "Authorization", PUBLISH_ALL), request("POST", MercureProtocol.PATH + "?authorization=junk", body))) {
            HubResponse a = answer(r);
            assertStatus(a, 401);
            assertThat(a.headers()).containsEntry("Link", "</.well-known/mercure>; rel=\"mercure\"");
        }
        assertThat(answer(post(body)).bodyText()).isEqualTo("a publisher token is required\n");
        assertThat(answer(post(body, "Authorization", "Bearer " + otherKey)).bodyText()).isEqualTo("bad token signature\n");
        assertThat(broadcaster.lastEventId()).as("nothing was published").isEmpty();
    }

    @Test
    void theTokenMayPublishOnlyToItsTopics() throws Exception {
        String exact = tokenUnchecked("{\"mercure\":{\"publish\":[\"" + BOOK + "\"]}}");
        String template = tokenUnchecked("{\"mercure\":{\"publish\":[\"https://example.com/books/{id}\"]}}");
        String none = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"*\"]}}");

        assertStatus(answer(publish(exact, form("topic", "https://example.com/books/2"))), 403);
        assertStatus(answer(publish(exact, form("topic", BOOK, "topic", "https://example.com/books/2"))), 403);
        assertStatus(answer(publish(template, form("topic", "https://example.com/authors/1"))), 403);
        assertStatus(answer(publish(template, form("topic", "https://example.com/books/1/chapters/2"))), 403);
        assertStatus(answer(publish(none, form("topic", BOOK))), 403);
        assertThat(answer(publish(none, form("topic", BOOK))).bodyText()).isEqualTo("the token may not publish to this topic\n");
        assertThat(broadcaster.lastEventId()).isEmpty();

        assertStatus(reply(later(protocol.handle(publish(exact, form("topic", BOOK, "id", "e1"))))), 200);
        assertStatus(reply(later(protocol.handle(publish(template, form("topic", "https://example.com/books/2", "id", "t1"))))), 200);
        assertThat(broadcaster.lastEventId()).contains("t1");
    }

    @Test
    void theSubscriptionTopicsAreReservedForTheHub() {
        for (String topic : List.of(Subscriptions.PATH + "/x/urn:uuid:1", MercureProtocol.PATH + "/anything",
                "https://example.com" + Subscriptions.PATH, Subscriptions.PATH)) {
            HubResponse r = answer(publish(PUBLISH_ALL, form("topic", topic, "data", "{\"active\":true}")));
            assertStatus(r, 400); // 403 before issue #24; Mercure 1.0 L365-383: 400 whatever the token
            assertThat(r.bodyText()).as(topic).contains("reserved");
        }
        assertThat(broadcaster.lastEventId()).isEmpty();
    }

    @Test
    void malformedPublishesAre400() {
        MercureProtocol three = protocol(Settings.defaults().maxTopics(3));
        String tooLong = "https://example.com/" + "x".repeat(TopicSelectorStore.MAX_LENGTH);
        Map<String, String> bodies = new java.util.LinkedHashMap<>();
        bodies.put("no topic", form("data", "x"));
        bodies.put("empty topic", form("topic", "", "data", "x"));
        bodies.put("topic without =", "topic&data=x");
        bodies.put("topic over the limit", form("topic", tooLong));
        bodies.put("CR LF in the topic", form("topic", BOOK + "\r\nX: y"));
        bodies.put("LF in the id", form("topic", BOOK, "id", "a\nb"));
        bodies.put("CR in the id", form("topic", BOOK, "id", "a\rb"));
        bodies.put("NUL in the id", form("topic", BOOK, "id", "a\0b"));
        bodies.put("CR LF in the type", form("topic", BOOK, "type", "x\r\ndata: injected"));
        bodies.put("id starting with #", form("topic", BOOK, "id", "#1"));
        bodies.put("retry not a number", form("topic", BOOK, "retry", "soon"));
        bodies.put("retry negative", form("topic", BOOK, "retry", "-1"));
        bodies.put("retry empty", form("topic", BOOK, "retry", ""));
        bodies.put("retry fractional", form("topic", BOOK, "retry", "1.5"));
        bodies.put("retry too long", form("topic", BOOK, "retry", "1".repeat(19)));
        bodies.put("bad percent escape", "topic=%ZZ&data=x");
        bodies.put("truncated percent escape", "topic=" + enc(BOOK) + "&data=%4");
        bodies.put("not UTF-8", "topic=" + enc(BOOK) + "&data=%FF%FE");
        bodies.put("too many topics", form("topic", "a", "topic", "b", "topic", "c", "topic", "d"));
        bodies.put("far too many fields", "topic=a&".repeat(100));
        for (Map.Entry<String, String> e : bodies.entrySet()) {
            HubResponse r = answer(three, publish(PUBLISH_ALL, e.getValue()));
            assertThat(r.status()).as(e.getKey() + ": " + r.bodyText()).isEqualTo(400);
        }
        assertThat(answer(three, publish(PUBLISH_ALL, form("data", "x"))).bodyText()).isEqualTo("Missing \"topic\" parameter.\n");
        assertThat(answer(three, publish(PUBLISH_ALL, form("topic", tooLong))).bodyText()).contains("2048");
        assertThat(answer(three, publish(PUBLISH_ALL, form("topic", "a", "topic", "b", "topic", "c", "topic", "d"))).bodyText())
                .isEqualTo("more than 3 topics\n");
        assertThat(answer(three, publish(PUBLISH_ALL, "topic=%ZZ")).bodyText()).startsWith("malformed request:");
        // a malformed query is refused before anything else
        assertStatus(answer(request("POST", MercureProtocol.PATH + "?x=%G0", form("topic", BOOK), "Authorization", "Bearer " + PUBLISH_ALL)), 400);
        assertThat(broadcaster.lastEventId()).isEmpty();
    }

    @Test
    void anEmptyIdIsAnOmittedId() throws Exception {
        // the reference hub assigns an id when the field is empty; an empty SSE id would reset
        // every subscriber's last event id and leave the publisher without an id to answer
        HubResponse r = reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "x", "id", "")))));
        assertStatus(r, 200);
        assertThat(r.bodyText()).isNotEmpty();
        assertThat(broadcaster.lastEventId()).contains(r.bodyText());
        assertThat(broadcaster.resumePoint(r.bodyText())).isEqualTo(r.bodyText());
    }

    @Test
    void aTopicOfExactlyTheLimitIsPublished() throws Exception {
        String atLimit = "x".repeat(TopicSelectorStore.MAX_LENGTH);
        assertStatus(reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", atLimit, "id", "long"))))), 200);
        assertThat(broadcaster.lastEventId()).contains("long");
    }

    @Test
    void aPublishTheStoreRefusesIs503() throws Exception {
        Broadcaster closed = Broadcaster.create();
        MercureProtocol p = protocol(Settings.defaults(), closed);
        closed.close();
        HubResponse r = reply(later(p.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "x")))));
        assertStatus(r, 503);
        assertThat(r.headers()).containsEntry("Retry-After", "5");
        assertThat(r.bodyText()).isEqualTo("the hub cannot store updates right now\n");
        assertThat(closed.lastEventId()).isEmpty();
    }

    // ---- subscribing

    @Test
    void subscribeIsAStreamWithTheProtocolHeaders() {
        MercureProtocol.Stream s = stream(now(protocol.handle(get(subscribeTarget(BOOK)))));
        assertThat(s.headers()).containsEntry("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0")
                .containsEntry("Link", "</.well-known/mercure>; rel=\"mercure\"")
                .doesNotContainKeys("Last-Event-ID", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials");
        s.abandon();

        MercureProtocol.Stream cors = stream(now(protocol.handle(get(subscribeTarget(BOOK), "Origin", APP))));
        assertThat(cors.headers()).containsEntry("Access-Control-Allow-Origin", APP)
                .containsEntry("Access-Control-Allow-Credentials", "true").containsEntry("Vary", "Origin");
        cors.abandon();

        MercureProtocol.Stream otherOrigin = stream(now(protocol.handle(get(subscribeTarget(BOOK), "Origin", "https://evil.example"))));
        assertThat(otherOrigin.headers()).doesNotContainKeys("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials");
        otherOrigin.abandon();
    }

    @Test
    void lastEventIdIsEchoedWhenKnownAndEarliestWhenNot() {
        String known = broadcaster.publish(SseMessage.builder().id("known-1").data("x").build(), BOOK);
        MercureProtocol.Stream header = stream(now(protocol.handle(get(subscribeTarget(BOOK), "Last-Event-ID", known))));
        assertThat(header.headers()).containsEntry("Last-Event-ID", "known-1");
        header.abandon();

        MercureProtocol.Stream unknown = stream(now(protocol.handle(get(subscribeTarget(BOOK), "Last-Event-ID", "never-issued"))));
        assertThat(unknown.headers()).containsEntry("Last-Event-ID", "earliest");
        unknown.abandon();

        MercureProtocol.Stream query = stream(now(protocol.handle(get(subscribeTarget(BOOK) + "&lastEventID=known-1"))));
        assertThat(query.headers()).containsEntry("Last-Event-ID", "known-1");
        query.abandon();

        MercureProtocol.Stream headerWins = stream(now(protocol.handle(
                get(subscribeTarget(BOOK) + "&lastEventID=never-issued", "Last-Event-ID", "known-1"))));
        assertThat(headerWins.headers()).containsEntry("Last-Event-ID", "known-1");
        headerWins.abandon();

        MercureProtocol.Stream earliest = stream(now(protocol.handle(get(subscribeTarget(BOOK), "Last-Event-ID", "earliest"))));
        assertThat(earliest.headers()).containsEntry("Last-Event-ID", "earliest");
        earliest.abandon();
    }

    @Test
    void subscribersNeedATokenWhenAnonymousIsOff() {
        MercureProtocol closed = protocol(Settings.defaults().anonymous(false));
        HubResponse r = answer(closed, get(subscribeTarget(BOOK)));
        assertStatus(r, 401);
        assertThat(r.bodyText()).isEqualTo("a subscriber token is required\n");
        stream(now(closed.handle(get(subscribeTarget(BOOK), "Authorization", "Bearer " + SUBSCRIBE_ALL)))).abandon();
        stream(now(closed.handle(get(subscribeTarget(BOOK) + "&authorization=" + SUBSCRIBE_ALL)))).abandon();
        // a token that does not verify is refused even where anonymous subscribers are welcome
        assertStatus(answer(get(subscribeTarget(BOOK), "Authorization", "Bearer not-a-token")), 401);
        assertStatus(answer(get(subscribeTarget(BOOK), "Authorization", "Basic abc")), 401);
    }

    @Test
    void malformedSubscribesAre400() {
        MercureProtocol three = protocol(Settings.defaults().maxTopics(3));
        for (String target : List.of(MercureProtocol.PATH, MercureProtocol.PATH + "?topic=", MercureProtocol.PATH + "?lastEventID=x",
                subscribeTarget("x".repeat(TopicSelectorStore.MAX_LENGTH + 1)), subscribeTarget("a\r\nb"),
                subscribeTarget("a", "b", "c", "d"), MercureProtocol.PATH + "?topic=%ZZ", MercureProtocol.PATH + "?topic=%C3")) {
            HubResponse r = answer(three, get(target));
            assertThat(r.status()).as(target + ": " + r.bodyText()).isEqualTo(400);
        }
        assertThat(three.handle(get(subscribeTarget("a", "b", "c"))).toCompletableFuture().join())
                .isInstanceOf(MercureProtocol.Stream.class);
    }

    @Test
    void maxConnectionsAnswers503AndAnAbandonedStreamFreesItsSlot() {
        MercureProtocol two = protocol(Settings.defaults().maxConnections(2));
        MercureProtocol.Stream first = stream(now(two.handle(get(subscribeTarget(BOOK)))));
        MercureProtocol.Stream second = stream(now(two.handle(get(subscribeTarget(BOOK)))));
        HubResponse full = answer(two, get(subscribeTarget(BOOK)));
        assertStatus(full, 503);
        assertThat(full.headers()).containsEntry("Retry-After", "5");
        assertThat(full.bodyText()).isEqualTo("too many subscribers; retry later\n");
        assertStatus(answer(two, get(subscribeTarget(BOOK))), 503);

        first.abandon();
        MercureProtocol.Stream third = stream(now(two.handle(get(subscribeTarget(BOOK)))));
        assertStatus(answer(two, get(subscribeTarget(BOOK))), 503);
        second.abandon();
        third.abandon();
        stream(now(two.handle(get(subscribeTarget(BOOK))))).abandon();
        stream(now(two.handle(get(subscribeTarget(BOOK))))).abandon();
    }

    @Test
    void refusedSubscribesTakeNoSlot() {
        MercureProtocol one = protocol(Settings.defaults().maxConnections(1).anonymous(false));
        for (int i = 0; i < 5; i++) {
            assertStatus(answer(one, get(subscribeTarget(BOOK))), 401);
            // the token first, then the matchers (the reference hub's order): 400 needs a valid token here
            assertStatus(answer(one, get(MercureProtocol.PATH, "Authorization", "Bearer " + SUBSCRIBE_ALL)), 400);
        }
        stream(now(one.handle(get(subscribeTarget(BOOK), "Authorization", "Bearer " + SUBSCRIBE_ALL)))).abandon();
    }

    // ---- a stream on an in-memory connection

    /** Opens a stream decision on an in-memory connection, as a server would after writing the head. */
    private BufferTransport open(MercureProtocol.Stream s) {
        BufferTransport t = new BufferTransport();
        SseConnection conn = Sse.open(t);
        toClose.add(conn);
        s.open(conn, Runnable::run);
        return t;
    }

    @Test
    void anOpenedStreamReceivesPublishedUpdatesAndOnlyAuthorizedPrivateOnes() throws Exception {
        BufferTransport anonymous = open(stream(now(protocol.handle(get(subscribeTarget("https://example.com/books/{id}"))))));
        BufferTransport authorized = open(stream(now(protocol.handle(get(subscribeTarget(BOOK), "Authorization", "Bearer " + SUBSCRIBE_ALL)))));

        assertStatus(reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "secret", "id", "p1", "private", "on"))))), 200);
        assertStatus(reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "hello", "id", "e1", "type", "book"))))), 200);

        assertThat(authorized.await("id: e1")).contains("id: p1\n").contains("data: secret\n").contains("event: book\n").contains("data: hello\n");
        assertThat(anonymous.await("id: e1")).contains("data: hello\n").doesNotContain("secret").doesNotContain("p1");
    }

    @Test
    void anUpdatePublishedBetweenTheDecisionAndTheOpenIsNotMissed() throws Exception {
        MercureProtocol.Stream s = stream(now(protocol.handle(get(subscribeTarget(BOOK)))));
        assertStatus(reply(later(protocol.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "in between", "id", "gap"))))), 200);
        BufferTransport t = open(s);
        assertThat(t.await("id: gap")).contains("data: in between\n");
    }

    @Test
    void theSubscriptionsApiListsActiveSubscriptions() throws Exception {
        HubResponse none = answer(get(Subscriptions.PATH));
        assertStatus(none, 401);
        String narrow = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"" + BOOK + "\"]}}");
        assertStatus(answer(get(Subscriptions.PATH, "Authorization", "Bearer " + narrow)), 403);
        assertStatus(answer(get(Subscriptions.PATH, "Authorization", "Bearer not-a-token")), 401);

        HubResponse empty = answer(get(Subscriptions.PATH, "Authorization", "Bearer " + SUBSCRIPTIONS_READER));
        assertStatus(empty, 200);
        // compatibility mode: the documents are 1.0's (MERCURE-1.0.md section 3), plus the 0.x cursor property
        assertThat(empty.headers()).containsEntry("Content-Type", "application/json");
        Map<String, Object> emptyJson = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(empty.bodyText());
        assertThat(emptyJson).containsEntry("id", Subscriptions.PATH)
                .containsEntry("type", "subscriptions").containsEntry("subscriptions", List.of())
                .containsEntry("lastEventID", "earliest").doesNotContainKey("@context");

        String payloadToken = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"*\"],\"payload\":{\"user\":\"u1\"}}}");
        BufferTransport t = open(stream(now(protocol.handle(get(subscribeTarget(BOOK), "Authorization", "Bearer " + payloadToken)))));
        // opened with a direct executor: active as soon as open returns
        assertThat(t.text()).isEmpty();

        HubResponse all = answer(get(Subscriptions.PATH, "Authorization", "Bearer " + SUBSCRIPTIONS_READER));
        assertStatus(all, 200);
        Map<String, Object> json = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(all.bodyText());
        // (the subscription's activation update is being stored meanwhile, on another thread)
        assertThat(json).containsEntry("type", "subscriptions").containsKey("lastEventID");
        assertThat(json.get("lastEventID")).isInstanceOf(String.class);
        List<?> subs = (List<?>) json.get("subscriptions");
        assertThat(subs).hasSize(1);
        @SuppressWarnings("unchecked")
        Map<String, Object> sub = (Map<String, Object>) subs.getFirst();
        String subscriber = (String) sub.get("subscriber");
        assertThat(subscriber).startsWith("urn:uuid:");
        assertThat(sub).containsEntry("type", "subscription").containsEntry("topic", BOOK).containsEntry("active", true)
                .containsEntry("id", LegacySubscriptions.id(BOOK, subscriber)).containsEntry("payload", Map.of("user", "u1"))
                .doesNotContainKey("@context");

        String byTopic = Subscriptions.PATH + "/" + Subscriptions.encode(BOOK);
        Map<String, Object> topicJson = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(
                answer(get(byTopic, "Authorization", "Bearer " + SUBSCRIPTIONS_READER)).bodyText());
        assertThat(topicJson).containsEntry("id", byTopic);
        assertThat((List<?>) topicJson.get("subscriptions")).hasSize(1);
        Map<String, Object> otherTopic = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(answer(get(Subscriptions.PATH + "/"
                + Subscriptions.encode("https://example.com/authors/1"), "Authorization", "Bearer " + SUBSCRIPTIONS_READER)).bodyText());
        assertThat((List<?>) otherTopic.get("subscriptions")).isEmpty();

        HubResponse one = answer(get(LegacySubscriptions.id(BOOK, subscriber), "Authorization", "Bearer " + SUBSCRIPTIONS_READER));
        assertStatus(one, 200);
        Map<String, Object> oneJson = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(one.bodyText());
        assertThat(oneJson).containsEntry("type", "subscription").containsEntry("topic", BOOK)
                .containsEntry("subscriber", subscriber).containsEntry("active", true).doesNotContainKey("@context");
        assertThat(one.headers()).containsKey("Link").containsKey("ETag");
        assertStatus(answer(get(LegacySubscriptions.id(BOOK, "urn:uuid:nobody"), "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 404);
        assertStatus(answer(get(Subscriptions.PATH + "/a/b/c/d", "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 404);
        // three segments are 1.0's: an unknown match type is 400
        assertStatus(answer(get(Subscriptions.PATH + "/a/b/c", "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 400);
        assertStatus(answer(get(Subscriptions.PATH + "x", "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 404);
        assertStatus(answer(request("POST", Subscriptions.PATH, "", "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 405);
    }

    @Test
    void aWrongMethodOnTheSubscriptionsApiAllowsGetAndOptions() {
        // RFC 9110 15.5.6: Allow lists the target resource's methods; this one answers POST with 405 itself
        for (String method : List.of("POST", "PUT", "DELETE")) {
            for (String target : List.of(Subscriptions.PATH, LegacySubscriptions.id(BOOK, "urn:uuid:1"))) {
                HubResponse r = answer(request(method, target, "", "Authorization", "Bearer " + SUBSCRIPTIONS_READER));
                assertStatus(r, 405);
                assertThat(r.headers()).as(method + " " + target).containsEntry("Allow", "GET, OPTIONS");
            }
        }
    }

    @Test
    void theSubscriptionsApiIsAbsentWhenDisabled() {
        MercureProtocol off = protocol(Settings.defaults().subscriptions(false));
        assertStatus(answer(off, get(Subscriptions.PATH, "Authorization", "Bearer " + SUBSCRIPTIONS_READER)), 404);
    }

    // ---- the other endpoints

    @Test
    void otherMethodsOnTheHubAre405WithAllow() {
        for (String method : List.of("PUT", "DELETE", "PATCH", "HEAD")) {
            HubResponse r = answer(request(method, MercureProtocol.PATH, ""));
            assertStatus(r, 405);
            assertThat(r.headers()).containsEntry("Allow", "GET, QUERY, POST, OPTIONS");
        }
    }

    @Test
    void unknownPathsAre404() {
        for (HubRequest r : List.of(get("/nope"), get("/.well-known/mercure/"), get("/.well-known/mercurex"), request("POST", "/healthz", ""),
                request("OPTIONS", "/", "", "Origin", APP), get("/"))) {
            HubResponse a = answer(r);
            assertThat(a.status()).as(r.method() + " " + r.rawPath()).isEqualTo(404);
            assertThat(a.headers()).doesNotContainKey("Allow");
        }
    }

    @Test
    void preflightAnswersAllowedOriginsOnly() {
        HubResponse ok = answer(request("OPTIONS", MercureProtocol.PATH, "", "Origin", APP, "Access-Control-Request-Method", "POST"));
        assertStatus(ok, 204);
        assertThat(ok.body()).isEmpty();
        assertThat(ok.headers()).containsEntry("Access-Control-Allow-Origin", APP).containsEntry("Access-Control-Allow-Methods", "GET, POST, QUERY")
                .containsKey("Access-Control-Allow-Headers").containsEntry("Access-Control-Max-Age", "600").doesNotContainKey("Content-Type");
        assertThat(ok.headers().get("Access-Control-Allow-Headers")).contains("authorization").contains("last-event-id")
                .as("a browser publisher may send Idempotency-Key").contains("idempotency-key");

        HubResponse evil = answer(request("OPTIONS", MercureProtocol.PATH, "", "Origin", "https://evil.example"));
        assertStatus(evil, 403);
        assertThat(evil.headers()).doesNotContainKey("Access-Control-Allow-Origin");
        assertStatus(answer(request("OPTIONS", MercureProtocol.PATH, "")), 403);

        // the subscriptions API is read with an Authorization header from other origins too
        HubResponse api = answer(request("OPTIONS", Subscriptions.PATH, "", "Origin", APP, "Access-Control-Request-Method", "GET"));
        assertStatus(api, 204);
        assertThat(api.headers()).containsEntry("Access-Control-Allow-Origin", APP).containsEntry("Access-Control-Allow-Methods", "GET");
        assertStatus(answer(request("OPTIONS", Subscriptions.PATH, "", "Origin", "https://evil.example")), 403);
    }

    @Test
    void healthz() {
        HubResponse r = answer(get("/healthz"));
        assertStatus(r, 200);
        assertThat(r.bodyText()).isEqualTo("ok\n");
        assertThat(r.headers()).containsEntry("Content-Type", "text/plain; charset=utf-8");
    }

    @Test
    void metrics() throws Exception {
        MercureProtocol quiet = protocol(Settings.defaults().subscriptions(false)); // no subscription updates published
        assertStatus(reply(later(quiet.handle(publish(PUBLISH_ALL, form("topic", BOOK, "data", "x"))))), 200);
        open(stream(now(quiet.handle(get(subscribeTarget(BOOK))))));
        assertStatus(answer(quiet, get("/metrics")), 404); // off the public port without the metrics token (issue #28)
        HubResponse r = answer(quiet, get("/metrics", "Authorization", "Bearer metrics-token"));
        assertStatus(r, 200);
        assertThat(r.headers().get("Content-Type")).startsWith("text/plain");
        assertThat(r.bodyText()).contains("# TYPE ssekit_published_total counter\n").contains("\nssekit_published_total 1\n")
                .contains("\nssekit_connections 1\n").contains("\nssekit_history_events 1\n");
    }

    @Test
    void theDemoPageOnlyInDemoMode() {
        assertStatus(answer(get("/")), 404);
        HubResponse demo = answer(protocol(Settings.defaults().demo(true)), get("/"));
        assertStatus(demo, 200);
        assertThat(demo.headers()).containsEntry("Content-Type", "text/html; charset=utf-8");
        assertThat(demo.bodyText()).contains("the-demo-token");
        assertStatus(answer(protocol(Settings.defaults().demo(true)), request("POST", "/", "")), 404);
    }

    @Test
    void corsHeadersOnRepliesForAllowedOrigins() {
        HubResponse allowed = answer(get("/healthz", "Origin", APP));
        assertThat(allowed.headers()).containsEntry("Access-Control-Allow-Origin", APP);
        HubResponse refused = answer(post(form("topic", BOOK), "Origin", APP));
        assertStatus(refused, 401);
        assertThat(refused.headers()).as("a browser must be able to read the refusal").containsEntry("Access-Control-Allow-Origin", APP);
        assertThat(answer(get("/healthz", "Origin", "https://evil.example")).headers()).doesNotContainKey("Access-Control-Allow-Origin");
    }
}
