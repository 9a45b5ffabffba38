package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Static keys. Hostile tokens are built here with the JDK's own crypto, independently of the
 * verifier; well-formed ones with {@link TestKey}.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JwtVerifierTest {

    static final byte[] KEY = "!ChangeThisMercureHubJWTSecretKey!".getBytes(UTF_8);
    static final Instant NOW = Instant.ofEpochSecond(1_800_000_000L);

    static String b64(String s) {
        return b64(s.getBytes(UTF_8));
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String hs256(String header, String payload, byte[] key) throws Exception {
        String signed = b64(header) + "." + b64(payload);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return signed + "." + b64(mac.doFinal(signed.getBytes(UTF_8)));
    }

    static String token(String payload) throws Exception {
        return hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, KEY);
    }

    /** The claims of a token the verifier accepts; a static key answers before verify returns. */
    static Claims ok(JwtVerifier v, String token) {
        CompletableFuture<Claims> f = v.verify(token, NOW).toCompletableFuture();
        assertThat(f).as("a static key answers at once").isDone();
        return f.join();
    }

    /** The reason a static-key verifier refuses a token. */
    static String refused(JwtVerifier v, String token) {
        CompletableFuture<Claims> f = v.verify(token, NOW).toCompletableFuture();
        assertThat(f).as("a static key answers at once").isDone();
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(JwtException.class);
        return f.handle((c, e) -> (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage()).join();
    }

    private final JwtVerifier hs = JwtVerifier.secret(KEY);

    @Test
    void readsMercureClaims() throws Exception {
        Claims c = ok(hs, token("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"https://example.com/books/{id}\"],"
                + "\"payload\":{\"user\":\"https://example.com/users/1\",\"roles\":[\"a\",\"b\"]}},\"exp\":1800000060}"));
        assertThat(c.publish()).containsExactly("*");
        assertThat(c.subscribe()).containsExactly("https://example.com/books/{id}");
        assertThat(c.payload()).get().isInstanceOf(Map.class)
                .isEqualTo(Map.of("user", "https://example.com/users/1", "roles", List.of("a", "b")));
        assertThat(((Map<?, ?>) c.payload().get()).get("roles")).isInstanceOf(List.class);
        assertThat(c.expiresAt()).contains(1_800_000_060L);
    }

    @Test
    void missingClaimsAllowNothing() throws Exception {
        Claims c = ok(hs, token("{}"));
        assertThat(c.publish()).isEmpty();
        assertThat(c.subscribe()).isEmpty();
        assertThat(c.expiresAt()).isEmpty();
        Claims wrongTypes = ok(hs, token("{\"mercure\":{\"publish\":\"*\",\"subscribe\":[1,\"ok\"]}}"));
        assertThat(wrongTypes.publish()).isEmpty();
        assertThat(wrongTypes.subscribe()).isEqualTo(List.of("ok"));
    }

    @Test
    void everyAlgorithmVerifiesAndAnotherKeyDoesNot() {
        for (JWSAlgorithm alg : TestKey.ALL) {
            TestKey key = TestKey.generate(alg);
            JwtVerifier v = key.verifier();
            assertThat(ok(v, key.sign("{\"mercure\":{\"subscribe\":[\"" + alg + "\"]}}")).subscribe()).as(alg.getName())
                    .containsExactly(alg.getName());
            assertThat(refused(v, TestKey.generate(alg).sign("{}"))).as(alg.getName()).isEqualTo("bad token signature");
        }
    }

    @Test
    void hmacAlgorithmsNeedSecretsAsLongAsTheirHash() {
        TestKey hs512 = TestKey.generate(JWSAlgorithm.HS512);
        assertThat(ok(JwtVerifier.secret(hs512.secret()), hs512.as(JWSAlgorithm.HS256).sign("{}"))).isNotNull();
        byte[] short32 = java.util.Arrays.copyOf(hs512.secret(), 32);
        JwtVerifier v32 = JwtVerifier.secret(short32);
        assertThat(ok(v32, new TestKey(JWSAlgorithm.HS256, short32, null).sign("{}"))).isNotNull();
        assertThat(refused(v32, hs512.sign("{}"))).isEqualTo("token algorithm HS512 is not accepted; this hub accepts HS256");
        assertThat(refused(JwtVerifier.secret(java.util.Arrays.copyOf(hs512.secret(), 48)), hs512.sign("{}")))
                .isEqualTo("token algorithm HS512 is not accepted; this hub accepts HS256, HS384");
    }

    @Test
    void refusesAlgNone() {
        String none = b64("{\"alg\":\"none\"}") + "." + b64("{\"mercure\":{\"publish\":[\"*\"]}}") + ".";
        assertThat(refused(hs, none)).isEqualTo("token algorithm none is not accepted");
        assertThat(refused(TestKey.generate(JWSAlgorithm.ES256).verifier(), none)).isEqualTo("token algorithm none is not accepted");
        String noneUpper = b64("{\"alg\":\"NONE\"}") + "." + b64("{}") + ".";
        assertThat(refused(hs, noneUpper)).isEqualTo("token algorithm none is not accepted");
    }

    @Test
    void refusesAWrongKeyAndATamperedPayload() throws Exception {
        byte[] other = "another-secret-that-is-32-bytes-long!".getBytes(UTF_8);
        assertThat(refused(hs, hs256("{\"alg\":\"HS256\"}", "{}", other))).isEqualTo("bad token signature");
        String good = token("{\"mercure\":{\"publish\":[]}}");
        String[] parts = good.split("\\.");
        assertThat(refused(hs, parts[0] + "." + b64("{\"mercure\":{\"publish\":[\"*\"]}}") + "." + parts[2]))
                .isEqualTo("bad token signature");
        TestKey es = TestKey.generate(JWSAlgorithm.ES256);
        String[] esParts = es.sign("{}").split("\\.");
        assertThat(refused(es.verifier(), esParts[0] + "." + esParts[1] + "." + b64(new byte[5])))
                .as("a signature of the wrong length").isEqualTo("bad token signature");
    }

    @Test
    void noAlgorithmConfusion() throws Exception {
        TestKey rsa = TestKey.generate(JWSAlgorithm.RS256);
        JwtVerifier verifier = rsa.verifier();
        assertThat(ok(verifier, rsa.sign("{\"mercure\":{\"subscribe\":[\"*\"]}}")).subscribe()).containsExactly("*");
        // the classic confusion: an HS256 token whose HMAC key is the RSA public key's bytes (PEM or DER)
        for (byte[] secret : List.of(rsa.pem().getBytes(UTF_8), rsa.pair().getPublic().getEncoded())) {
            String confused = hs256("{\"alg\":\"HS256\"}", "{\"mercure\":{\"publish\":[\"*\"]}}", secret);
            assertThat(refused(verifier, confused)).isEqualTo("token algorithm HS256 is not accepted; this hub accepts RS256, RS384, RS512");
            assertThat(refused(JwtVerifier.fromSetting("--publisher-jwt-key", rsa.pem(), Optional.empty()), confused))
                    .startsWith("token algorithm HS256 is not accepted");
        }
        assertThat(refused(hs, rsa.sign("{}"))).isEqualTo("token algorithm RS256 is not accepted; this hub accepts HS256");
        // an RSA token against an EC key, an EC token against an RSA key, P-384 against P-256
        TestKey ec = TestKey.generate(JWSAlgorithm.ES256);
        assertThat(refused(ec.verifier(), rsa.sign("{}"))).isEqualTo("token algorithm RS256 is not accepted; this hub accepts ES256");
        assertThat(refused(verifier, ec.sign("{}"))).startsWith("token algorithm ES256 is not accepted");
        assertThat(refused(ec.verifier(), TestKey.generate(JWSAlgorithm.ES384).sign("{}")))
                .isEqualTo("token algorithm ES384 is not accepted; this hub accepts ES256");
        assertThat(refused(TestKey.generate(JWSAlgorithm.EdDSA).verifier(), ec.sign("{}")))
                .isEqualTo("token algorithm ES256 is not accepted; this hub accepts EdDSA");
    }

    @Test
    void aPinnedAlgorithmRefusesTheOthers() {
        TestKey rsa = TestKey.generate(JWSAlgorithm.RS256);
        JwtVerifier pinned = JwtVerifier.fromSetting("--publisher-jwt-key", rsa.pem(), Optional.of("rs256"));
        assertThat(ok(pinned, rsa.sign("{}"))).isNotNull();
        assertThat(refused(pinned, rsa.as(JWSAlgorithm.RS384).sign("{}")))
                .isEqualTo("token algorithm RS384 is not accepted; this hub accepts RS256");
        assertThat(ok(JwtVerifier.fromSetting("k", rsa.pem(), Optional.empty()), rsa.as(JWSAlgorithm.RS512).sign("{}"))).isNotNull();

        String secret = new String(KEY, UTF_8);
        assertThat(ok(JwtVerifier.fromSetting("k", secret, Optional.of("HS256")), JwtVerifierTest.tokenUnchecked("{}"))).isNotNull();
        assertThatThrownBy(() -> JwtVerifier.fromSetting("--publisher-jwt-key", secret, Optional.of("RS256")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--publisher-jwt-key: algorithm \"RS256\" does not fit an HMAC secret of 34 bytes, which accepts HS256");
        assertThatThrownBy(() -> JwtVerifier.fromSetting("--subscriber-jwt-key", rsa.pem(), Optional.of("HS256")))
                .hasMessage("--subscriber-jwt-key: algorithm \"HS256\" does not fit an RSA public key, which accepts RS256, RS384, RS512");
        assertThatThrownBy(() -> JwtVerifier.fromSetting("k", TestKey.generate(JWSAlgorithm.ES256).pem(), Optional.of("RS256")))
                .hasMessage("k: algorithm \"RS256\" does not fit an EC P-256 public key, which accepts ES256");
        assertThatThrownBy(() -> JwtVerifier.fromSetting("k", secret, Optional.of("none"))).hasMessageStartingWith("k: algorithm \"none\"");
    }

    static String tokenUnchecked(String payload) {
        try {
            return token(payload);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void keysThatCannotBeUsed() throws Exception {
        assertThatThrownBy(() -> JwtVerifier.secret(new byte[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("an HMAC key must be at least 32 bytes (256 bits), got 10");
        assertThatThrownBy(() -> JwtVerifier.fromSetting("--publisher-jwt-key", "short", Optional.empty()))
                .hasMessage("--publisher-jwt-key: an HMAC key must be at least 32 bytes (256 bits), got 5");
        String rsaPem = TestKey.generate(JWSAlgorithm.RS256).pem();
        assertThatThrownBy(() -> JwtVerifier.publicKey(rsaPem.replace("PUBLIC KEY", "RSA PUBLIC KEY")))
                .hasMessage("expected a PEM public key (-----BEGIN PUBLIC KEY-----), found -----BEGIN RSA PUBLIC KEY-----");
        assertThatThrownBy(() -> JwtVerifier.publicKey("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----"))
                .hasMessage("the PEM public key is not valid base64");
        KeyPairGenerator p521 = KeyPairGenerator.getInstance("EC");
        p521.initialize(new ECGenParameterSpec("secp521r1"));
        assertThatThrownBy(() -> JwtVerifier.publicKey(pem(p521.generateKeyPair().getPublic().getEncoded())))
                .hasMessage("found an EC public key on curve P-521; supported are P-256 (ES256) and P-384 (ES384)");
        assertThatThrownBy(() -> JwtVerifier.publicKey(pem(KeyPairGenerator.getInstance("Ed448").generateKeyPair().getPublic().getEncoded())))
                .hasMessage("found a public key of type Ed448; supported are RSA, EC P-256, EC P-384 and Ed25519");
        assertThatThrownBy(() -> JwtVerifier.publicKey(pem(KeyPairGenerator.getInstance("X25519").generateKeyPair().getPublic().getEncoded())))
                .hasMessage("found a public key of type X25519; supported are RSA, EC P-256, EC P-384 and Ed25519");
        assertThatThrownBy(() -> JwtVerifier.publicKey(pem(new byte[] {1, 2, 3})))
                .hasMessageStartingWith("the PEM public key is of a type this JDK does not know");
        KeyPairGenerator rsa1024 = KeyPairGenerator.getInstance("RSA");
        rsa1024.initialize(1024);
        assertThatThrownBy(() -> JwtVerifier.publicKey(pem(rsa1024.generateKeyPair().getPublic().getEncoded())))
                .hasMessage("found an RSA public key of 1024 bits; at least 2048 are required");
    }

    static String pem(byte[] der) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END PUBLIC KEY-----";
    }

    @Test
    void expiryAndNotBefore() throws Exception {
        assertThat(refused(hs, token("{\"exp\":1800000000}"))).isEqualTo("token expired");
        assertThat(ok(hs, token("{\"exp\":1800000001}")).expiresAt()).contains(1_800_000_001L);
        assertThat(refused(hs, token("{\"nbf\":1800000001}"))).isEqualTo("token not valid yet");
        assertThat(ok(hs, token("{\"nbf\":1800000000}"))).isNotNull();
        assertThat(refused(hs, token("{\"exp\":\"soon\"}"))).isEqualTo("malformed token: exp is not a number");
        assertThat(refused(hs, token("{\"nbf\":true}"))).isEqualTo("malformed token: nbf is not a number");
        assertThat(refused(hs, token("{\"iat\":\"yesterday\"}"))).isEqualTo("malformed token: a registered claim has the wrong type");
        TestKey ed = TestKey.generate(JWSAlgorithm.EdDSA);
        assertThat(refused(ed.verifier(), ed.sign("{\"exp\":1799999999}"))).isEqualTo("token expired");
    }

    /** Issue #15 item 5: a token verified once is remembered, never past its exp nor for another key. */
    @Test
    void aVerifiedTokenIsRememberedUntilItsExpiry() throws Exception {
        String t = token("{\"exp\":1800000010,\"mercure\":{\"publish\":[\"*\"]}}");
        Claims first = ok(hs, t);
        assertThat(ok(hs, t)).as("the second verification is the first one's result").isSameAs(first);
        CompletableFuture<Claims> later = hs.verify(t, NOW.plusSeconds(10)).toCompletableFuture();
        assertThatThrownBy(later::join).hasCauseInstanceOf(JwtException.class).hasMessageContaining("token expired");
        assertThat(refused(JwtVerifier.secret("another-key-another-key-another-key".getBytes(UTF_8)), t))
                .as("another verifier's key").isEqualTo("bad token signature");
        String tampered = t.substring(0, t.length() - 2) + (t.endsWith("A") ? "BA" : "AA");
        assertThat(refused(hs, tampered)).as("a token differing from a remembered one").isEqualTo("bad token signature");
    }

    @Test
    void malformedTokens() throws Exception {
        assertThat(refused(hs, "abc")).contains("three dot-separated parts");
        assertThat(refused(hs, "a.b.c.d")).contains("three dot-separated parts");
        assertThat(refused(hs, ".e30.x")).contains("three dot-separated parts");
        assertThat(refused(hs, "!!!.e30.x")).isEqualTo("malformed token: the header is not base64url");
        assertThat(refused(hs, b64("[1]") + ".e30.x")).isEqualTo("malformed token: the header is not a JSON object");
        assertThat(refused(hs, b64("{\"typ\":\"JWT\"}") + ".e30.x")).isEqualTo("malformed token: the header has no alg");
        assertThat(refused(hs, b64("{\"alg\":\"HS256\",\"enc\":\"A128GCM\"}") + ".e30.x"))
                .isEqualTo("malformed token: encrypted tokens are not accepted");
        assertThat(refused(hs, b64("{\"alg\":\"HS256\",\"kid\":7}") + ".e30.x")).isEqualTo("malformed token: the header is not a valid JWS header");
        assertThat(refused(hs, b64("{\"alg\":\"HS256\"}") + ".e30.***")).isEqualTo("malformed token: the signature is not base64url");
        String[] parts = hs256("{\"alg\":\"HS256\"}", "not json", KEY).split("\\.");
        assertThat(refused(hs, String.join(".", parts))).isEqualTo("malformed token: the payload is not a JSON object");
        assertThat(refused(hs, hs256("{\"alg\":\"HS256\"}", "[1]", KEY))).isEqualTo("malformed token: the payload is not a JSON object");
        assertThat(refused(hs, b64("{\"alg\":\"HS256\\r\\nX: y\"}") + ".e30.AAAA")).isEqualTo("token algorithm (unprintable) is not accepted; this hub accepts HS256");
        assertThat(refused(hs, hs256("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", "{}", KEY)))
                .as("an unknown critical header").isEqualTo("bad token signature");
    }

    @Test
    void demoTokensVerify() {
        String t = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", KEY);
        assertThat(ok(hs, t).publish()).containsExactly("*");
        assertThat(new String(Base64.getUrlDecoder().decode(t.split("\\.")[0]), UTF_8)).contains("\"typ\":\"JWT\"").contains("\"alg\":\"HS256\"");
        assertThatThrownBy(() -> Tokens.hs256("{}", new byte[8])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void closeIsIdempotentForStaticKeys() {
        hs.close();
        hs.close();
        assertThat(hs.afterNextFetch()).isDone();
    }
}
