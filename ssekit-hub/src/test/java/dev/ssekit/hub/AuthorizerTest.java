package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Where the token comes from, the cookie's CSRF check, anonymous subscribers; static keys, so every stage is done at once. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AuthorizerTest {

    private static final String APP = "https://app.example.com";
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private static final String HEADER_TOKEN = tokenUnchecked("{\"mercure\":{\"publish\":[\"from-header\"],\"subscribe\":[\"from-header\"]}}");
    private static final String QUERY_TOKEN = tokenUnchecked("{\"mercure\":{\"publish\":[\"from-query\"],\"subscribe\":[\"from-query\"]}}");
    private static final String COOKIE_TOKEN = tokenUnchecked("{\"mercure\":{\"publish\":[\"from-cookie\"],\"subscribe\":[\"from-cookie\"]}}");

    private final Authorizer authorizer = authorizer(true);

    private static Authorizer authorizer(boolean anonymous) {
        return new Authorizer(JwtVerifier.secret(KEY), JwtVerifier.secret(KEY), anonymous, Set.of(APP)::contains, CLOCK);
    }

    private static HubRequest req(String... headerPairs) {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(java.util.Locale.ROOT), headerPairs[i + 1]);
        }
        return new HubRequest("GET", MercureProtocol.PATH, MercureProtocol.PATH, "", headers, new byte[0]);
    }

    private static Map<String, List<String>> query(String token) {
        return token == null ? Map.of() : Map.of("authorization", List.of(token));
    }

    private static <T> T done(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        assertThat(f).as("a static key answers at once").isDone();
        return f.join();
    }

    /** The rejection a stage completed with, at once. */
    private static Rejection rejected(CompletionStage<?> stage) {
        CompletableFuture<?> f = stage.toCompletableFuture();
        assertThat(f).as("a static key answers at once").isDone();
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(Rejection.class);
        return (Rejection) f.handle((v, e) -> e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).join();
    }

    private static Rejection thrown(ThrowingToken call) {
        try {
            call.run();
        } catch (Rejection r) {
            return r;
        }
        throw new AssertionError("expected a Rejection");
    }

    private interface ThrowingToken {
        void run() throws Rejection;
    }

    @Test
    void theHeaderWinsOverTheQueryWhichWinsOverTheCookie() throws Exception {
        HubRequest all = req("Authorization", "Bearer " + HEADER_TOKEN, "Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN, "Origin", APP);
        assertThat(authorizer.token(all, query(QUERY_TOKEN))).contains(HEADER_TOKEN);
        assertThat(done(authorizer.publisher(all, query(QUERY_TOKEN))).publish()).containsExactly("from-header");

        HubRequest noHeader = req("Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN, "Origin", APP);
        assertThat(authorizer.token(noHeader, query(QUERY_TOKEN))).contains(QUERY_TOKEN);
        assertThat(done(authorizer.publisher(noHeader, query(QUERY_TOKEN))).publish()).containsExactly("from-query");

        assertThat(authorizer.token(noHeader, query(null))).contains(COOKIE_TOKEN);
        assertThat(done(authorizer.publisher(noHeader, query(null))).publish()).containsExactly("from-cookie");
        assertThat(done(authorizer.subscriber(noHeader, query(null))).subscribe()).containsExactly("from-cookie");
        assertThat(done(authorizer.subscriberOrAnonymous(noHeader, query(null)))).get()
                .extracting(Claims::subscribe).isEqualTo(List.of("from-cookie"));

        assertThat(authorizer.token(req(), query(null))).isEmpty();
    }

    @Test
    void aHeaderThatIsNotBearerIsRefusedEvenWithAQueryToken() {
        for (String header : List.of("Basic dXNlcjpwYXNz", "Bearer", "Token " + HEADER_TOKEN, "Bearer" + HEADER_TOKEN, "")) {
            HubRequest r = req("Authorization", header);
            assertThat(thrown(() -> authorizer.token(r, query(QUERY_TOKEN))).status).as(header).isEqualTo(401);
            Rejection rej = rejected(authorizer.publisher(r, query(QUERY_TOKEN)));
            assertThat(rej.status).as(header).isEqualTo(401);
            assertThat(rej.getMessage()).isEqualTo("the Authorization header must be a Bearer token");
            assertThat(rejected(authorizer.subscriberOrAnonymous(r, query(null))).status).as("anonymous is no way around it").isEqualTo(401);
        }
    }

    @Test
    void bearerIsCaseInsensitiveAndTheTokenIsTrimmed() throws Exception {
        for (String scheme : List.of("Bearer ", "bearer ", "BEARER ", "bEaReR ")) {
            HubRequest r = req("Authorization", scheme + HEADER_TOKEN);
            assertThat(authorizer.token(r, query(null))).as(scheme).contains(HEADER_TOKEN);
            assertThat(done(authorizer.publisher(r, query(null))).publish()).as(scheme).containsExactly("from-header");
        }
        assertThat(authorizer.token(req("Authorization", "Bearer   " + HEADER_TOKEN + "  "), query(null))).contains(HEADER_TOKEN);
    }

    @Test
    void cookieParsing() {
        String c = Authorizer.COOKIE;
        assertThat(Authorizer.cookie(c + "=tok", c)).contains("tok");
        assertThat(Authorizer.cookie("a=1; " + c + "=tok; b=2", c)).contains("tok");
        assertThat(Authorizer.cookie("a=1;" + c + "=tok;b=2", c)).contains("tok");
        assertThat(Authorizer.cookie(c + "=\"tok\"", c)).as("quotes are dropped").contains("tok");
        assertThat(Authorizer.cookie("a=1;   " + c + "  =  tok   ; b=2", c)).as("spaces around").contains("tok");
        assertThat(Authorizer.cookie(c + "=a.b=c", c)).as("the value may hold =").contains("a.b=c");
        assertThat(Authorizer.cookie(c + "=\"", c)).as("a lone quote stays").contains("\"");
        assertThat(Authorizer.cookie(c + "=", c)).contains("");
        assertThat(Authorizer.cookie("a=1; b=2", c)).isEmpty();
        assertThat(Authorizer.cookie("", c)).isEmpty();
        assertThat(Authorizer.cookie(null, c)).isEmpty();
        assertThat(Authorizer.cookie(c, c)).as("a name without =").isEmpty();
        assertThat(Authorizer.cookie("=" + c, c)).isEmpty();
        // the name as a prefix or suffix of another cookie's name does not match
        assertThat(Authorizer.cookie(c + "X=evil", c)).isEmpty();
        assertThat(Authorizer.cookie("x" + c + "=evil", c)).isEmpty();
        assertThat(Authorizer.cookie(c + "X=evil; x" + c + "=evil; " + c + "=good", c)).contains("good");
        // case matters in cookie names
        assertThat(Authorizer.cookie(c.toLowerCase(java.util.Locale.ROOT) + "=evil", c)).isEmpty();
        // the first of several wins
        assertThat(Authorizer.cookie(c + "=one; " + c + "=two", c)).contains("one");
    }

    @Test
    void aCookieNeedsAnOriginOrReferer() {
        HubRequest bare = req("Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN);
        Rejection r = thrown(() -> authorizer.token(bare, query(null)));
        assertThat(r.status).isEqualTo(401);
        assertThat(r.getMessage()).contains("Origin or Referer");
        assertThat(rejected(authorizer.publisher(bare, query(null))).status).isEqualTo(401);
        assertThat(rejected(authorizer.subscriberOrAnonymous(bare, query(null))).status).as("not taken for anonymous").isEqualTo(401);
        HubRequest junkReferer = req("Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN, "Referer", "::not a uri::");
        assertThat(thrown(() -> authorizer.token(junkReferer, query(null))).status).isEqualTo(401);
    }

    @Test
    void aCookieFromADisallowedOriginIs403() {
        for (String[] h : List.of(new String[] {"Origin", "https://evil.example"}, new String[] {"Referer", "https://evil.example/page"},
                new String[] {"Origin", APP + ".evil.example"}, new String[] {"Origin", "http://app.example.com"})) {
            HubRequest r = req("Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN, h[0], h[1]);
            Rejection rej = thrown(() -> authorizer.token(r, query(null)));
            assertThat(rej.status).as(h[1]).isEqualTo(403);
            assertThat(rejected(authorizer.subscriber(r, query(null))).status).as(h[1]).isEqualTo(403);
        }
        // Origin is checked first: an allowed Referer does not help a disallowed Origin
        HubRequest both = req("Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN, "Origin", "https://evil.example", "Referer", APP + "/");
        assertThat(thrown(() -> authorizer.token(both, query(null))).status).isEqualTo(403);
    }

    @Test
    void theRefererGivesTheOrigin() throws Exception {
        for (String referer : List.of(APP + "/", APP + "/some/page?q=1#frag", APP)) {
            HubRequest r = req("Cookie", "other=1; " + Authorizer.COOKIE + "=" + COOKIE_TOKEN, "Referer", referer);
            assertThat(authorizer.token(r, query(null))).as(referer).contains(COOKIE_TOKEN);
            assertThat(done(authorizer.subscriber(r, query(null))).subscribe()).containsExactly("from-cookie");
        }
    }

    @Test
    void noCookieNeedsNoOrigin() throws Exception {
        assertThat(authorizer.token(req("Cookie", "session=1"), query(null))).isEmpty();
        assertThat(authorizer.token(req("Authorization", "Bearer " + HEADER_TOKEN), query(null))).contains(HEADER_TOKEN);
        // a cookie beside a header or query token is not looked at, so needs no Origin
        HubRequest r = req("Authorization", "Bearer " + HEADER_TOKEN, "Cookie", Authorizer.COOKIE + "=" + COOKIE_TOKEN);
        assertThat(authorizer.token(r, query(null))).contains(HEADER_TOKEN);
    }

    @Test
    void anonymousSubscribers() {
        assertThat(done(authorizer(true).subscriberOrAnonymous(req(), query(null)))).isEmpty();
        Rejection off = rejected(authorizer(false).subscriberOrAnonymous(req(), query(null)));
        assertThat(off.status).isEqualTo(401);
        assertThat(off.getMessage()).isEqualTo("a subscriber token is required");
        // the subscriptions API and publishing always need a token
        assertThat(rejected(authorizer(true).subscriber(req(), query(null))).status).isEqualTo(401);
        Rejection publisher = rejected(authorizer(true).publisher(req(), query(null)));
        assertThat(publisher.status).isEqualTo(401);
        assertThat(publisher.getMessage()).isEqualTo("a publisher token is required");
        // with a token, anonymous or not makes no difference
        assertThat(done(authorizer(false).subscriberOrAnonymous(req(), query(QUERY_TOKEN)))).get()
                .extracting(Claims::subscribe).isEqualTo(List.of("from-query"));
    }

    @Test
    void aTokenThatDoesNotVerifyIsRefusedWithTheVerifiersReason() throws Exception {
        String otherKey = JwtVerifierTest.hs256("{\"alg\":\"HS256\"}", "{\"mercure\":{\"publish\":[\"*\"]}}",
                "another-secret-that-is-32-bytes-long!".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String expired = tokenUnchecked("{\"exp\":" + (NOW.getEpochSecond() - 60) + ",\"mercure\":{\"publish\":[\"*\"]}}");
        String notYet = tokenUnchecked("{\"nbf\":" + (NOW.getEpochSecond() + 3600) + ",\"mercure\":{\"publish\":[\"*\"]}}");
        JwtVerifier verifier = JwtVerifier.secret(KEY);
        for (String token : List.of(otherKey, expired, notYet, "not-a-token", "a.b.c")) {
            String reason = JwtVerifierTest.refused(verifier, token);
            for (boolean anonymous : List.of(true, false)) {
                Authorizer a = authorizer(anonymous);
                for (HubRequest r : List.of(req("Authorization", "Bearer " + token), req())) {
                    Map<String, List<String>> q = r.headers().isEmpty() ? query(token) : query(null);
                    for (CompletionStage<?> stage : List.of(a.publisher(r, q), a.subscriber(r, q), a.subscriberOrAnonymous(r, q))) {
                        Rejection rej = rejected(stage);
                        assertThat(rej.status).as(token).isEqualTo(401);
                        assertThat(rej.getMessage()).as(token).isEqualTo(reason);
                    }
                }
            }
        }
        assertThat(JwtVerifierTest.refused(verifier, expired)).isEqualTo("token expired");
    }

    @Test
    void theClockDecidesExpiry() {
        String token = tokenUnchecked("{\"exp\":" + (NOW.getEpochSecond() + 60) + ",\"mercure\":{\"publish\":[\"*\"]}}");
        HubRequest r = req("Authorization", "Bearer " + token);
        assertThat(done(authorizer.publisher(r, query(null))).expiresAt()).contains(NOW.getEpochSecond() + 60);
        Authorizer later = new Authorizer(JwtVerifier.secret(KEY), JwtVerifier.secret(KEY), true, Set.of(APP)::contains,
                Clock.fixed(NOW.plusSeconds(3600), ZoneOffset.UTC));
        assertThat(rejected(later.publisher(r, query(null))).getMessage()).isEqualTo("token expired");
    }

    @Test
    void publishersAndSubscribersHaveTheirOwnKeys() {
        byte[] subscriberKey = "a-subscriber-secret-of-32-bytes-or-more!".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Authorizer split = new Authorizer(JwtVerifier.secret(KEY), JwtVerifier.secret(subscriberKey), false, Set.of(APP)::contains, CLOCK);
        HubRequest publisherToken = req("Authorization", "Bearer " + HEADER_TOKEN);
        assertThat(done(split.publisher(publisherToken, query(null))).publish()).containsExactly("from-header");
        assertThat(rejected(split.subscriber(publisherToken, query(null))).getMessage()).isEqualTo("bad token signature");
        assertThat(rejected(split.subscriberOrAnonymous(publisherToken, query(null))).getMessage()).isEqualTo("bad token signature");
        String subscriberToken = new TestKey(com.nimbusds.jose.JWSAlgorithm.HS256, subscriberKey, null)
                .sign("{\"mercure\":{\"subscribe\":[\"s\"]}}");
        HubRequest subscriber = req("Authorization", "Bearer " + subscriberToken);
        assertThat(done(split.subscriber(subscriber, query(null))).subscribe()).containsExactly("s");
        assertThat(rejected(split.publisher(subscriber, query(null))).getMessage()).isEqualTo("bad token signature");
    }
}
