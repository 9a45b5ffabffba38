package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.hub.AccessTokens.AccessToken;
import dev.ssekit.hub.AccessTokens.Issuer;
import dev.ssekit.hub.AccessTokens.Role;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mercure 1.0 token validation without a socket: RFC 9068 typ, iss bound to its own keys, aud, exp, the
 * authorization_details grants, where the token may come from, and the RFC 6750 challenge of each refusal.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AccessTokensTest {

    static final String AT = "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}";
    static final String HUB = "https://localhost/.well-known/mercure";
    static final byte[] OTHER_KEY = "another issuer's secret, 32 bytes at least!".getBytes(UTF_8);
    static final String GRANT_ALL = "\"authorization_details\":[{\"type\":\"https://mercure.rocks/authorization-detail\","
            + "\"actions\":[\"publish\"],\"topics\":[{\"match\":\"*\"}]},{\"type\":\"https://mercure.rocks/authorization-detail\","
            + "\"actions\":[\"subscribe\"],\"topics\":[{\"match\":\"*\"}]}]";
    /** The 1.0 conformance suite's token (mercure.spec.ts:171 at v1.0.0-alpha.3), exactly. */
    static final String SUITE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
            + "eyJhdWQiOiJodHRwczovL2xvY2FsaG9zdC8ud2VsbC1rbm93bi9tZXJjdXJlIiwiaXNzIjoiaHR0cHM6Ly9sb2NhbGhvc3QiLCJhdXRob3JpemF0aW9uX2RldGFpbHMiOlt7InR5cGUiOiJodHRwczovL21lcmN1cmUucm9ja3MvYXV0aG9yaXphdGlvbi1kZXRhaWwiLCJhY3Rpb25zIjpbInB1Ymxpc2giXSwidG9waWNzIjpbeyJtYXRjaCI6IioifV19LHsidHlwZSI6Imh0dHBzOi8vbWVyY3VyZS5yb2Nrcy9hdXRob3JpemF0aW9uLWRldGFpbCIsImFjdGlvbnMiOlsic3Vic2NyaWJlIl0sInRvcGljcyI6W3sibWF0Y2giOiIqIn1dfV0sImV4cCI6NDEwMjQ0NDgwMH0."
            + "z_S8IP5WZsCK8h3pcq0PB5zvJE0OdTrGA70khAYJQy4";

    private final MatcherStore matchers = new MatcherStore(HUB, 100);
    private final AccessTokens tokens = new AccessTokens(List.of(
            new Issuer("https://localhost", Optional.of(JwtVerifier.secret(KEY)), Optional.of(JwtVerifier.secret(KEY))),
            new Issuer("https://idp.example", Optional.of(JwtVerifier.secret(OTHER_KEY)), Optional.empty())),
            matchers, Clock.fixed(NOW, ZoneOffset.UTC));

    static String claims(String iss, String extra) {
        return "{\"iss\":\"" + iss + "\",\"aud\":\"" + HUB + "\",\"exp\":" + (NOW.getEpochSecond() + 600) + extra + "}";
    }

    private AccessToken ok(String token, Role role) {
        CompletableFuture<AccessToken> f = tokens.validate(token, role, HUB).toCompletableFuture();
        assertThat(f).as("static keys answer at once").isDone();
        return f.join();
    }

    private Rejection refused(String token, Role role) {
        CompletableFuture<AccessToken> f = tokens.validate(token, role, HUB).toCompletableFuture();
        assertThat(f).as("static keys answer at once").isDone();
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(Rejection.class);
        return (Rejection) f.handle((t, e) -> Rejection.cause(e)).join();
    }

    @Test
    void aTokenOfTheConformanceSuiteGrantsPublishAndSubscribeOnEverything() throws Exception {
        AccessToken t = ok(SUITE_TOKEN, Role.PUBLISHER);
        assertThat(t.issuer()).isEqualTo("https://localhost");
        assertThat(t.expiresAt()).isEqualTo(4102444800L);
        assertThat(t.grants().publish()).containsExactly(Matcher.exact("*"));
        assertThat(t.grants().subscribe()).containsExactly(Matcher.exact("*"));
        assertThat(matchers.anyMatches(t.grants().publish(), "https://example.net/anything")).isTrue();
    }

    @Test
    void typMustBeAtJwtInAnyCase() throws Exception {
        assertThat(ok(hs256("{\"alg\":\"HS256\",\"typ\":\"AT+JWT\"}", claims("https://localhost", ""), KEY), Role.PUBLISHER)).isNotNull();
        assertThat(ok(hs256("{\"alg\":\"HS256\",\"typ\":\"application/at+jwt\"}", claims("https://localhost", ""), KEY), Role.PUBLISHER))
                .isNotNull();
        for (String header : List.of("{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) {
            Rejection r = refused(hs256(header, claims("https://localhost", ""), KEY), Role.PUBLISHER);
            assertThat(r.status).isEqualTo(401);
            assertThat(r.bearerError).isEqualTo("invalid_token");
            assertThat(r.getMessage()).contains("at+jwt");
        }
    }

    @Test
    void aKeyNeverVerifiesATokenThatNamesAnotherIssuer() throws Exception {
        // signed with https://localhost's key, but names https://idp.example: only idp's key is tried
        Rejection r = refused(hs256(AT, claims("https://idp.example", ""), KEY), Role.PUBLISHER);
        assertThat(r.bearerError).isEqualTo("invalid_token");
        assertThat(r.getMessage()).contains("signature");
        // and the other way round
        assertThat(refused(hs256(AT, claims("https://localhost", ""), OTHER_KEY), Role.PUBLISHER).getMessage()).contains("signature");
        // each with its own key: accepted
        assertThat(ok(hs256(AT, claims("https://idp.example", ""), OTHER_KEY), Role.PUBLISHER).issuer()).isEqualTo("https://idp.example");
        // idp.example has no subscriber keys: none of the others stands in
        assertThat(refused(hs256(AT, claims("https://idp.example", ""), OTHER_KEY), Role.SUBSCRIBER).getMessage())
                .contains("no subscriber keys");
    }

    @Test
    void issMustBeExactlyATrustedIssuer() throws Exception {
        for (String iss : List.of("https://localhost/", "HTTPS://localhost", "https://evil.example")) {
            assertThat(refused(hs256(AT, claims(iss, ""), KEY), Role.PUBLISHER).getMessage()).as(iss).contains("not trusted");
        }
        assertThat(refused(hs256(AT, "{\"aud\":\"" + HUB + "\",\"exp\":" + (NOW.getEpochSecond() + 9) + "}", KEY), Role.PUBLISHER)
                .getMessage()).contains("no iss");
        assertThat(refused("not.a.token", Role.PUBLISHER).bearerError).isEqualTo("invalid_token");
    }

    @Test
    void audMustNameTheResource() throws Exception {
        String base = "{\"iss\":\"https://localhost\",\"exp\":" + (NOW.getEpochSecond() + 60);
        assertThat(ok(hs256(AT, base + ",\"aud\":[\"x\",\"" + HUB + "\"]}", KEY), Role.SUBSCRIBER)).isNotNull();
        for (String aud : List.of("", ",\"aud\":\"https://localhost\"", ",\"aud\":[\"x\"]", ",\"aud\":\"" + HUB + "/\"")) {
            Rejection r = refused(hs256(AT, base + aud + "}", KEY), Role.SUBSCRIBER);
            assertThat(r.getMessage()).as(aud).contains("aud");
            assertThat(r.status).isEqualTo(401);
        }
    }

    @Test
    void expIsRequiredAndEnforced() throws Exception {
        String noExp = "{\"iss\":\"https://localhost\",\"aud\":\"" + HUB + "\"}";
        assertThat(refused(hs256(AT, noExp, KEY), Role.PUBLISHER).getMessage()).contains("no exp");
        String expired = "{\"iss\":\"https://localhost\",\"aud\":\"" + HUB + "\",\"exp\":" + NOW.getEpochSecond() + "}";
        assertThat(refused(hs256(AT, expired, KEY), Role.PUBLISHER).getMessage()).contains("expired");
        String notYet = claims("https://localhost", ",\"nbf\":" + (NOW.getEpochSecond() + 5));
        assertThat(refused(hs256(AT, notYet, KEY), Role.PUBLISHER).getMessage()).contains("not valid yet");
    }

    @Test
    void aMalformedGrantRejectsTheWholeToken() throws Exception {
        String bad = ",\"authorization_details\":[{\"type\":\"https://mercure.rocks/authorization-detail\",\"actions\":[\"publish\"],"
                + "\"topics\":[{\"match\":\"a\"},\"bare\"]}]";
        Rejection r = refused(hs256(AT, claims("https://localhost", bad), KEY), Role.PUBLISHER);
        assertThat(r.bearerError).isEqualTo("invalid_token");
        assertThat(r.getMessage()).contains("authorization_details[0].topics[1]");
        // the 0.x claim inside an at+jwt grants nothing
        AccessToken t = ok(hs256(AT, claims("https://localhost", ",\"mercure\":{\"publish\":[\"*\"]}"), KEY), Role.PUBLISHER);
        assertThat(t.grants().publish()).isEmpty();
    }

    @Test
    void tokensComeFromTheHeaderOrTheCookieNeverTheQuery() throws Exception {
        assertThat(AccessTokens.presented(req("Authorization", "bEaReR abc"), Map.of(), o -> false)).contains("abc");
        // the header wins; the cookie is ignored, even from an origin that may not use it
        assertThat(AccessTokens.presented(req("Authorization", "Bearer abc", "Cookie", AccessTokens.COOKIE + "=def"), Map.of(),
                o -> false)).contains("abc");
        assertThat(AccessTokens.presented(req("Cookie", "a=b; " + AccessTokens.COOKIE + "=def", "Origin", "https://app"),
                Map.of(), Set.of("https://app")::contains)).contains("def");
        assertThat(AccessTokens.presented(req("Cookie", "mercureAuthorization=def"), Map.of(), o -> true)).isEmpty();
        for (var query : List.of(Map.of("authorization", List.of("x")), Map.of("access_token", List.of("x")))) {
            assertThatThrownBy(() -> AccessTokens.presented(req(), query, o -> true)).isInstanceOfSatisfying(Rejection.class, r -> {
                assertThat(r.status).isEqualTo(400);
                assertThat(r.bearerError).isEqualTo("invalid_request");
            });
        }
        for (String header : List.of("Basic abc", "Bearer", "Bearer   ", "Token x")) {
            assertThatThrownBy(() -> AccessTokens.presented(req("Authorization", header), Map.of(), o -> true))
                    .as(header).isInstanceOfSatisfying(Rejection.class, r -> assertThat(r.bearerError).isEqualTo("invalid_request"));
        }
        // a cookie without an allowed Origin/Referer: a CSRF attempt
        assertThatThrownBy(() -> AccessTokens.presented(req("Cookie", AccessTokens.COOKIE + "=def"), Map.of(), o -> true))
                .isInstanceOfSatisfying(Rejection.class, r -> assertThat(r.status).isEqualTo(400));
        assertThatThrownBy(() -> AccessTokens.presented(req("Cookie", AccessTokens.COOKIE + "=def", "Referer", "https://evil/x"),
                Map.of(), Set.of("https://app")::contains)).isInstanceOf(Rejection.class);
    }

    @Test
    void everyRefusalCarriesItsChallenge() {
        String prm = "https://localhost/.well-known/oauth-protected-resource/.well-known/mercure";
        assertThat(Rejection.noToken("x").challenge(prm)).isEqualTo("Bearer resource_metadata=\"" + prm + "\"");
        assertThat(Rejection.noToken("x").challenge(null)).isEqualTo("Bearer");
        assertThat(Rejection.invalidToken("x").challenge(prm)).isEqualTo("Bearer error=\"invalid_token\", resource_metadata=\"" + prm + "\"");
        assertThat(Rejection.insufficientScope("x").challenge(prm)).startsWith("Bearer error=\"insufficient_scope\", ");
        assertThat(Rejection.insufficientScope("x").status).isEqualTo(403);
        assertThat(Rejection.invalidRequest("x").challenge(null)).isEqualTo("Bearer error=\"invalid_request\"");
        assertThat(new Rejection(400, "x").challenge(prm)).isNull();
    }

    static HubRequest req(String... headerPairs) {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(java.util.Locale.ROOT), headerPairs[i + 1]);
        }
        return new HubRequest("GET", MercureProtocol.PATH, MercureProtocol.PATH, "", headers, new byte[0]);
    }
}
