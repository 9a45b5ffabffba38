package dev.ssekit.hub;

import static dev.ssekit.hub.AccessTokensTest.SUITE_TOKEN;
import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.net.InetSocketAddress;
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
 * Mercure 1.0 (the default protocol) without a server: the MUST rows of MERCURE-1.0.md §1 and the status map of §4
 * through {@link MercureProtocol}, over a real broadcaster and HMAC keys. Also a compatibility-mode hub serving 1.0
 * clients, and 0.x inputs refused outside it.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Mercure10ProtocolTest {

    static final String ISSUER = "https://localhost";
    static final String HUB = "https://localhost/.well-known/mercure";
    static final String PRM = "https://localhost/.well-known/oauth-protected-resource/.well-known/mercure";
    static final String T = AuthorizationDetails.TYPE;

    private final Broadcaster broadcaster = Broadcaster.create();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        broadcaster.close();
    }

    static HubConfig config(HubConfig.Protocol protocol, boolean anonymous) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        return new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, anonymous, Set.of("https://app.example"), 64 * 1024,
                10, 100, true, false, "", Duration.ofSeconds(10), Optional.empty()).withProtocol(protocol);
    }

    private MercureProtocol protocol(HubConfig config) {
        return new MercureProtocol(config, broadcaster, new Subscriptions(broadcaster, config.subscriptionEvents()),
                new TopicSelectorStore(1_000), Scheduler.system(), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private final MercureProtocol modern = protocol(config(HubConfig.Protocol.modern(ISSUER, JwtVerifier.secret(KEY),
            JwtVerifier.secret(KEY), HUB), true));

    /** A 1.0 token of the test issuer for the hub's audience, expiring in 10 minutes. */
    static String token(String details) {
        try {
            return hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + HUB + "\",\"exp\":"
                    + (NOW.getEpochSecond() + 600) + ",\"authorization_details\":" + details + "}", KEY);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String grant(String action, String... matchPairs) {
        StringBuilder topics = new StringBuilder();
        for (int i = 0; i < matchPairs.length; i += 2) {
            topics.append(topics.isEmpty() ? "" : ",").append("{\"match\":\"").append(matchPairs[i]).append("\",\"match_type\":\"")
                    .append(matchPairs[i + 1]).append("\"}");
        }
        return "{\"type\":\"" + T + "\",\"actions\":[\"" + action + "\"],\"topics\":[" + topics + "]}";
    }

    // ---- requests

    static HubRequest request(String method, String target, String body, String... headerPairs) {
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String rawQuery = q < 0 ? "" : target.substring(q + 1);
        Map<String, String> headers = new HashMap<>();
        headers.put("host", "localhost");
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(Locale.ROOT), headerPairs[i + 1]);
        }
        return new HubRequest(method, java.net.URLDecoder.decode(rawPath, UTF_8), rawPath, rawQuery, headers, body.getBytes(UTF_8));
    }

    static HubRequest publish(String token, String body) {
        return request("POST", MercureProtocol.PATH, body, "Authorization", "Bearer " + token);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    static String form(String... pairs) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pairs.length; i += 2) {
            b.append(b.isEmpty() ? "" : "&").append(enc(pairs[i])).append('=').append(enc(pairs[i + 1]));
        }
        return b.toString();
    }

    static HubRequest subscribe(String query, String... headers) {
        return request("GET", MercureProtocol.PATH + "?" + query, "", headers);
    }

    private static MercureProtocol.Decision decided(CompletionStage<MercureProtocol.Decision> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static HubResponse reply(MercureProtocol.Decision d) {
        assertThat(d).as("a reply").isInstanceOf(MercureProtocol.Reply.class);
        return ((MercureProtocol.Reply) d).response();
    }

    private static MercureProtocol.Stream stream(MercureProtocol.Decision d) {
        assertThat(d).as("a stream, not %s", d instanceof MercureProtocol.Reply r ? r.response().status() + " " + r.response().bodyText() : "")
                .isInstanceOf(MercureProtocol.Stream.class);
        return (MercureProtocol.Stream) d;
    }

    private HubResponse answer(MercureProtocol p, HubRequest r) throws Exception {
        return reply(decided(p.handle(r)));
    }

    private BufferTransport open(MercureProtocol.Stream s) {
        BufferTransport t = new BufferTransport();
        SseConnection conn = Sse.open(t);
        toClose.add(conn);
        s.open(conn, Runnable::run);
        return t;
    }

    private static void assertStatus(HubResponse r, int status) {
        assertThat(r.status()).as("%s", r.bodyText()).isEqualTo(status);
    }

    // ---- publishing

    @Test
    void theConformanceSuitesTokenPublishesAndTheAnswerIsTheIdAsPlainText() throws Exception {
        // before issue #24 this token got 403 (the hub read only the mercure claim)
        HubResponse r = answer(modern, publish(SUITE_TOKEN, form("topic", "r0", "id", "id-[\"r0\"]", "data", "data for\n\n        x")));
        assertStatus(r, 200);
        assertThat(r.bodyText()).isEqualTo("id-[\"r0\"]");
        assertThat(r.headers()).containsEntry("Content-Type", "text/plain; charset=utf-8");
        // reused ids are accepted
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "r0", "id", "id-[\"r0\"]", "private", "on"))), 200);
    }

    @Test
    void refusalsFollowRfc6750WithTheMetadataInEveryChallenge() throws Exception {
        HubResponse none = answer(modern, request("POST", MercureProtocol.PATH, form("topic", "a")));
        assertStatus(none, 401);
        assertThat(none.headers()).containsEntry("WWW-Authenticate", "Bearer resource_metadata=\"" + PRM + "\"");

        HubResponse old = answer(modern, publish(tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]}}"), form("topic", "a")));
        assertStatus(old, 401);
        assertThat(old.headers()).containsEntry("WWW-Authenticate", "Bearer error=\"invalid_token\", resource_metadata=\"" + PRM + "\"");

        HubResponse scope = answer(modern, publish(token("[" + grant("publish", "/books/:id", "urlpattern") + "]"), form("topic", "/authors/1")));
        assertStatus(scope, 403);
        assertThat(scope.headers()).containsEntry("WWW-Authenticate", "Bearer error=\"insufficient_scope\", resource_metadata=\"" + PRM + "\"");
        assertStatus(answer(modern, publish(token("[" + grant("publish", "/books/:id", "urlpattern") + "]"), form("topic", "/books/1"))), 200);

        HubResponse query = answer(modern, request("POST", MercureProtocol.PATH + "?authorization=" + SUITE_TOKEN, form("topic", "a")));
        assertStatus(query, 400);
        assertThat(query.headers().get("WWW-Authenticate")).startsWith("Bearer error=\"invalid_request\"");
        HubResponse basic = answer(modern, request("POST", MercureProtocol.PATH, form("topic", "a"), "Authorization", "Basic eDp5"));
        assertStatus(basic, 400);
        // counted by error on /metrics
        assertThat(modern.metrics()).contains("ssekit_hub_auth_refusals_total{error=\"none\"} 1\n")
                .contains("ssekit_hub_auth_refusals_total{error=\"invalid_token\"} 1\n")
                .contains("ssekit_hub_auth_refusals_total{error=\"insufficient_scope\"} 1\n")
                .contains("ssekit_hub_auth_refusals_total{error=\"invalid_request\"} 2\n");
        // the 0.x cookie is not read in 1.0: no token at all
        assertStatus(answer(modern, request("POST", MercureProtocol.PATH, form("topic", "a"), "Cookie",
                "mercureAuthorization=" + SUITE_TOKEN, "Origin", "https://app.example")), 401);
    }

    @Test
    void reservedTopicsStarAndReservedValuesAre400WhateverTheToken() throws Exception {
        String narrow = token("[" + grant("publish", "https://example.com/x", "exact") + "]");
        for (String topic : List.of("*", HUB, HUB + "/subscriptions/exact/a/b", "mercure", "https://other.example/.well-known/mercure/x")) {
            assertStatus(answer(modern, publish(narrow, form("topic", topic))), 400);
            assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", topic))), 400);
        }
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a", "type", "mercure"))), 400);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a", "id", "earliest"))), 400);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a\u200Bb"))), 400);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a", "id", "x\u0085"))), 400);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a", "retry", "1e3"))), 400);
        assertThat(broadcaster.lastEventId()).isEmpty();
        // the publisher needs a grant on every topic
        assertStatus(answer(modern, publish(narrow, form("topic", "https://example.com/x", "topic", "https://example.com/y"))), 403);
    }

    // ---- subscribing

    @Test
    void matchAndMatchUrlpatternDeliverAndPrivateUpdatesNeedASubscribeGrant() throws Exception {
        // before issue #24 every match= subscription was answered 400
        BufferTransport exact = open(stream(decided(modern.handle(subscribe("match=foo&match=r2")))));
        BufferTransport pattern = open(stream(decided(modern.handle(subscribe("match_urlpattern=" + enc("https://example.net/foo/:random"))))));
        BufferTransport granted = open(stream(decided(modern.handle(subscribe("match_urlpattern=" + enc("https://example.net/foo/:random"),
                "Authorization", "Bearer " + token("[" + grant("subscribe", "https://example.net/foo/:x", "urlpattern") + "]"))))));
        BufferTransport other = open(stream(decided(modern.handle(subscribe("match_urlpattern=" + enc("https://example.net/bar/:var"))))));

        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.net/foo/r4", "id", "p", "data", "secret",
                "private", "on"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "r2", "id", "e1", "data", "one\r\ntwo\rthree"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.net/foo/r4", "id", "e2", "data", "data for\n\n  x"))),
                200);

        assertThat(exact.await("id: e1")).contains("data: one\ndata: two\ndata: three\n");
        assertThat(pattern.await("id: e2")).contains("data: data for\ndata:\ndata:   x\n").doesNotContain("secret");
        assertThat(granted.await("id: e2")).contains("id: p\n").contains("data: secret\n");
        assertThat(other.text()).doesNotContain("id: e2").doesNotContain("id: p");
    }

    @Test
    void zeroXSubscriptionsAndMatcherMistakesAre400() throws Exception {
        for (String q : List.of("topic=a", "Match=a", "match_regex=a", "matches=a", "last_event_id=x", "match=",
                "match_urlpattern=" + enc("https://x/(?=a)"), "match=a%E2%80%8E")) {
            HubResponse r = answer(modern, subscribe(q));
            assertStatus(r, 400);
            assertThat(r.headers()).as(q).doesNotContainKey("WWW-Authenticate");
        }
        // a bad token is 401 even when anonymous subscribers are allowed
        assertStatus(answer(modern, subscribe("match=a", "Authorization", "Bearer x.y.z")), 401);
        // a token in the query is refused, not ignored
        assertStatus(answer(modern, subscribe("match=a&authorization=" + SUITE_TOKEN)), 400);
        MercureProtocol closed = protocol(config(HubConfig.Protocol.modern(ISSUER, JwtVerifier.secret(KEY), JwtVerifier.secret(KEY), HUB),
                false));
        HubResponse noToken = answer(closed, subscribe("match=a"));
        assertStatus(noToken, 401);
        assertThat(noToken.headers()).containsEntry("WWW-Authenticate", "Bearer resource_metadata=\"" + PRM + "\"");
    }

    @Test
    void theCursorIsLastEventIdAndTheAnswerMercureLastEventId() throws Exception {
        String known = broadcaster.publish(SseMessage.builder().id("known-1").data("x").build(), "a");
        MercureProtocol.Stream query = stream(decided(modern.handle(subscribe("match=a&last_event_id=" + known))));
        assertThat(query.headers()).containsEntry("Mercure-Last-Event-ID", "known-1").doesNotContainKey("Last-Event-ID");
        query.abandon();
        MercureProtocol.Stream header = stream(decided(modern.handle(subscribe("match=a&last_event_id=never", "Last-Event-ID", known))));
        assertThat(header.headers()).containsEntry("Mercure-Last-Event-ID", "known-1");
        header.abandon();
        MercureProtocol.Stream unknown = stream(decided(modern.handle(subscribe("match=a&last_event_id=never"))));
        assertThat(unknown.headers()).containsEntry("Mercure-Last-Event-ID", "earliest");
        unknown.abandon();
        // no cursor: no answer; the 0.x lastEventID is not a cursor in 1.0
        MercureProtocol.Stream none = stream(decided(modern.handle(subscribe("match=a&lastEventID=" + known))));
        assertThat(none.headers()).doesNotContainKeys("Mercure-Last-Event-ID", "Last-Event-ID");
        none.abandon();
    }

    @Test
    void queryWithAFormBodyIsServedLikeGet() throws Exception {
        String known = broadcaster.publish(SseMessage.builder().id("k1").data("x").build(), "a");
        MercureProtocol.Stream s = stream(decided(modern.handle(request("QUERY", MercureProtocol.PATH + "?last_event_id=" + known,
                "match=a&last_event_id=never", "Content-Type", "application/x-www-form-urlencoded"))));
        assertThat(s.headers()).as("the query's last_event_id wins over the body's").containsEntry("Mercure-Last-Event-ID", "k1");
        BufferTransport t = open(s);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "a", "id", "q2"))), 200);
        assertThat(t.await("id: q2")).isNotEmpty();
        assertStatus(answer(modern, request("QUERY", MercureProtocol.PATH, "match_regex=x")), 400);
        assertStatus(answer(modern, request("QUERY", MercureProtocol.PATH, "")), 400);
    }

    @Test
    void theProtectedResourceMetadataDocument() throws Exception {
        HubResponse r = answer(modern, request("GET", MercureProtocol.METADATA_PATH, ""));
        assertStatus(r, 200);
        assertThat(r.headers()).containsEntry("Content-Type", "application/json");
        assertThat(r.bodyText()).contains("\"resource\":\"" + HUB + "\"").contains("\"bearer_methods_supported\":[\"header\"]")
                .contains("\"authorization_details_types_supported\":[\"" + T + "\"]")
                .contains("\"mercure_cookie\":\"__Secure-mercure_access_token\"");
    }

    @Test
    void withoutAResourceIdTheAudienceIsTheRequestsHubUrlAndPublicUrlsRefuseOtherOrigins() throws Exception {
        HubConfig.Protocol derived = new HubConfig.Protocol(0, List.of(new AccessTokens.Issuer(ISSUER,
                Optional.of(JwtVerifier.secret(KEY)), Optional.of(JwtVerifier.secret(KEY)))), Optional.empty(),
                Set.of("http://localhost", "http://hub.example:8080"), 10, Set.of());
        MercureProtocol p = protocol(config(derived, true));
        String forLocalhost = hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER
                + "\",\"aud\":\"http://localhost/.well-known/mercure\",\"exp\":" + (NOW.getEpochSecond() + 60)
                + ",\"authorization_details\":[" + grant("publish", "*", "exact") + "]}", KEY);
        assertStatus(answer(p, publish(forLocalhost, form("topic", "a"))), 200);
        HubResponse otherHost = answer(p, request("POST", MercureProtocol.PATH, form("topic", "a"), "Authorization", "Bearer " + forLocalhost,
                "Host", "hub.example:8080"));
        assertStatus(otherHost, 401);
        assertThat(otherHost.bodyText()).contains("aud");
        assertStatus(answer(p, request("GET", MercureProtocol.PATH + "?match=a", "", "Host", "evil.example")), 421);
        assertStatus(answer(p, request("GET", "/healthz", "", "Host", "evil.example")), 200);
    }

    @Test
    void severalIssuersEachWithItsOwnKeys() throws Exception {
        byte[] other = "the second issuer's own HMAC secret, 32+ bytes".getBytes(UTF_8);
        HubConfig.Protocol two = new HubConfig.Protocol(0, List.of(
                new AccessTokens.Issuer(ISSUER, Optional.of(JwtVerifier.secret(KEY)), Optional.of(JwtVerifier.secret(KEY))),
                new AccessTokens.Issuer("https://idp.example", Optional.of(JwtVerifier.secret(other)), Optional.empty())),
                Optional.of(HUB), Set.of(), 10, Set.of());
        MercureProtocol p = protocol(config(two, true));
        String body = "{\"iss\":\"https://idp.example\",\"aud\":\"" + HUB + "\",\"exp\":" + (NOW.getEpochSecond() + 60)
                + ",\"authorization_details\":[" + grant("publish", "*", "exact") + "]}";
        assertStatus(answer(p, publish(hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", body, other), form("topic", "a"))), 200);
        assertStatus(answer(p, publish(hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", body, KEY), form("topic", "a"))), 401);
        assertStatus(answer(p, publish(SUITE_TOKEN, form("topic", "a"))), 200);
    }

    @Test
    void oneClientHoldsAtMostItsShareOfStreamsCountedBehindTrustedProxies() throws Exception {
        HubConfig.Protocol limited = HubConfig.Protocol.modern(ISSUER, JwtVerifier.secret(KEY), JwtVerifier.secret(KEY), HUB)
                .withClientLimit(2, Set.of("10.0.0.1"));
        MercureProtocol p = protocol(config(limited, true));
        MercureProtocol.Stream a = stream(decided(p.handle(subscribe("match=a").from("192.0.2.1"))));
        MercureProtocol.Stream b = stream(decided(p.handle(subscribe("match=a").from("192.0.2.1"))));
        HubResponse third = answer(p, subscribe("match=a").from("192.0.2.1"));
        assertStatus(third, 429);
        assertThat(third.headers()).containsKey("Retry-After");
        // through the trusted proxy, the rightmost address it did not add itself is the client; a spoofed entry is ignored
        assertStatus(answer(p, subscribe("match=a", "X-Forwarded-For", "198.51.100.9, 192.0.2.1").from("10.0.0.1")), 429);
        assertStatus(answer(p, subscribe("match=a", "Forwarded", "for=198.51.100.9, for=\"192.0.2.1:4711\"").from("10.0.0.1")), 429);
        // an untrusted peer's header counts for nothing: the peer is the client
        MercureProtocol.Stream untrusted = stream(decided(p.handle(subscribe("match=a", "X-Forwarded-For", "192.0.2.1").from("10.0.0.2"))));
        MercureProtocol.Stream other = stream(decided(p.handle(subscribe("match=a").from("192.0.2.2"))));
        // a loopback peer that is no trusted proxy (a local reverse proxy that names no client) is not limited
        List<MercureProtocol.Stream> local = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            local.add(stream(decided(p.handle(subscribe("match=a").from("127.0.0.1")))));
        }
        local.forEach(MercureProtocol.Stream::abandon);
        // a stream that never started frees its client's slot; so does one that ends
        a.abandon();
        SseConnection conn = Sse.open(new BufferTransport());
        stream(decided(p.handle(subscribe("match=a").from("192.0.2.1")))).open(conn, Runnable::run);
        assertStatus(answer(p, subscribe("match=a").from("192.0.2.1")), 429);
        conn.close();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            MercureProtocol.Decision d = decided(p.handle(subscribe("match=a").from("192.0.2.1")));
            if (d instanceof MercureProtocol.Stream s) {
                s.abandon();
                return true;
            }
            return false;
        });
        b.abandon();
        untrusted.abandon();
        other.abandon();
    }

    @Test
    void theSubscriptionsApiCursorIsALinkWithAnETagAndIfNoneMatchIs304() throws Exception {
        broadcaster.publish(SseMessage.builder().id("cursor-1").data("x").build(), "a");
        HubResponse list = answer(modern, request("GET", Subscriptions.PATH, "", "Authorization", "Bearer " + SUITE_TOKEN));
        assertStatus(list, 200);
        assertThat(list.headers()).containsEntry("Content-Type", "application/json")
                .containsEntry("Link", "</.well-known/mercure>; rel=\"mercure\"; last-event-id=\"cursor-1\"; type=\"mercure\"; "
                        + "content-type=\"application/json\"")
                .containsEntry("ETag", "\"cursor-1/0\""); // the cursor and the count of subscription changes
        assertThat(list.bodyText()).doesNotContain("lastEventID");
        HubResponse same = answer(modern, request("GET", Subscriptions.PATH, "", "Authorization", "Bearer " + SUITE_TOKEN,
                "If-None-Match", "\"cursor-1/0\""));
        assertStatus(same, 304);
        assertThat(same.body()).isEmpty();
        broadcaster.publish(SseMessage.builder().id("cursor-2").data("x").build(), "a");
        assertStatus(answer(modern, request("GET", Subscriptions.PATH, "", "Authorization", "Bearer " + SUITE_TOKEN,
                "If-None-Match", "\"cursor-1/0\"")), 200);
        // no token: 401 with the challenge; a token without the grant: 403
        assertStatus(answer(modern, request("GET", Subscriptions.PATH, "")), 401);
        assertStatus(answer(modern, request("GET", Subscriptions.PATH, "", "Authorization", "Bearer "
                + token("[" + grant("subscribe", "/books/:id", "urlpattern") + "]"))), 403);
    }

    @Test
    void aRepeatedIdResumesFromItsEarliestUpdateAndReplayIsAuthorizedByTheCurrentToken() throws Exception {
        String subscriber = token("[" + grant("subscribe", "https://example.com/:x", "urlpattern") + "]");
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.com/a", "id", "dup", "data", "first"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.com/a", "id", "mid", "data", "middle"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.com/a", "id", "dup", "data", "again"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.com/a", "id", "p", "data", "secret",
                "private", "on"))), 200);
        assertStatus(answer(modern, publish(SUITE_TOKEN, form("topic", "https://example.com/a", "id", "end", "data", "last"))), 200);
        // everything after the earliest "dup", the later "dup" included (L949-952)
        MercureProtocol.Stream s = stream(decided(modern.handle(subscribe("match_urlpattern=" + enc("https://example.com/:x")
                + "&last_event_id=dup", "Authorization", "Bearer " + subscriber))));
        assertThat(s.headers()).containsEntry("Mercure-Last-Event-ID", "dup");
        String replay = open(s).await("id: end");
        assertThat(replay).contains("data: middle").contains("data: again").contains("data: secret").doesNotContain("data: first");
        // the same replay for an anonymous subscriber: the private update is left out
        String anonymous = open(stream(decided(modern.handle(subscribe("match_urlpattern=" + enc("https://example.com/:x")
                + "&last_event_id=dup"))))).await("id: end");
        assertThat(anonymous).contains("data: again").doesNotContain("secret");
    }

    /**
     * The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header) is validated in both
     * modes: printable ASCII, not empty, at most 256 bytes; otherwise 400 naming the header.
     */
    @Test
    void anIdempotencyKeyHeaderIsPrintableAsciiOfAtMost256Bytes() throws Exception {
        MercureProtocol compat = protocol(config(HubConfig.Protocol.compatible(JwtVerifier.secret(KEY), JwtVerifier.secret(KEY)), true));
        String modernToken = token("[" + grant("publish", "*", "exact") + "]");
        String zeroX = tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]}}");
        for (String bad : List.of("", "caf\u00e9", "a\u0001b", "a\u007fb", "k".repeat(MercureProtocol.MAX_IDEMPOTENCY_KEY_BYTES + 1))) {
            for (HubResponse r : List.of(
                    answer(modern, request("POST", MercureProtocol.PATH, form("topic", "a"), "Authorization", "Bearer " + modernToken,
                            "Idempotency-Key", bad)),
                    answer(compat, request("POST", MercureProtocol.PATH, form("topic", "a"), "Authorization", "Bearer " + zeroX,
                            "Idempotency-Key", bad)))) {
                assertStatus(r, 400);
                assertThat(r.bodyText()).contains("Idempotency-Key");
            }
        }
        HubResponse longest = answer(modern, request("POST", MercureProtocol.PATH, form("topic", "a", "id", "x"),
                "Authorization", "Bearer " + modernToken, "Idempotency-Key", "k".repeat(MercureProtocol.MAX_IDEMPOTENCY_KEY_BYTES)));
        assertStatus(longest, 200);
        assertThat(longest.bodyText()).isEqualTo("x");
    }

    // ---- compatibility mode 8

    @Test
    void aCompatibilityHubServesZeroXAndOneZeroClients() throws Exception {
        MercureProtocol compat = protocol(config(HubConfig.Protocol.compatible(JwtVerifier.secret(KEY), JwtVerifier.secret(KEY)), true));
        String zeroX = tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"https://example.com/{x}\"]}}");
        BufferTransport old = open(stream(decided(compat.handle(subscribe("topic=" + enc("https://example.com/{x}")
                + "&authorization=" + zeroX)))));
        BufferTransport modernClient = open(stream(decided(compat.handle(subscribe("match_urlpattern=" + enc("https://example.com/:x"),
                "Authorization", "Bearer " + SUITE_TOKEN)))));
        assertStatus(answer(compat, publish(zeroX, form("topic", "https://example.com/1", "id", "c1", "private", "on"))), 200);
        assertStatus(answer(compat, publish(SUITE_TOKEN, form("topic", "https://example.com/2", "id", "c2", "private", "on"))), 200);
        assertThat(old.await("id: c2")).contains("id: c1");
        assertThat(modernClient.await("id: c2")).contains("id: c1");
        // the 0.x cursor and both reply headers
        MercureProtocol.Stream cursor = stream(decided(compat.handle(subscribe("topic=a&lastEventID=c1"))));
        assertThat(cursor.headers()).containsEntry("Last-Event-ID", "c1").containsEntry("Mercure-Last-Event-ID", "c1");
        cursor.abandon();
        // a mercure claim beside authorization_details grants nothing: the details win
        String both = tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]},\"authorization_details\":[" + grant("publish", "x", "exact") + "]}");
        assertStatus(answer(compat, publish(both, form("topic", "y"))), 403);
        assertStatus(answer(compat, publish(both, form("topic", "x"))), 200);
    }
}
