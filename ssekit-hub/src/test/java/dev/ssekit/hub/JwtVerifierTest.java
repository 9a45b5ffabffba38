package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Tokens are built here with the JDK's own crypto, independently of the verifier. */
class JwtVerifierTest {

    static final byte[] KEY = "!ChangeThisMercureHubJWTSecretKey!".getBytes(UTF_8);
    static final Instant NOW = Instant.ofEpochSecond(1_800_000_000L);

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(UTF_8));
    }

    static String hs256(String header, String payload, byte[] key) throws Exception {
        String signed = b64(header) + "." + b64(payload);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return signed + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(signed.getBytes(UTF_8)));
    }

    static String token(String payload) throws Exception {
        return hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, KEY);
    }

    private final JwtVerifier hs = JwtVerifier.hs256(KEY, Duration.ZERO);

    @Test
    void readsMercureClaims() throws Exception {
        Claims c = hs.verifyNow(token("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"https://example.com/books/{id}\"],"
                + "\"payload\":{\"user\":\"https://example.com/users/1\"}},\"exp\":1800000060}"), NOW);
        assertThat(c.publish()).containsExactly("*");
        assertThat(c.subscribe()).containsExactly("https://example.com/books/{id}");
        assertThat(c.payload()).contains(Map.of("user", "https://example.com/users/1"));
        assertThat(c.expiresAt()).contains(1_800_000_060L);
    }

    @Test
    void missingClaimsAllowNothing() throws Exception {
        Claims c = hs.verifyNow(token("{}"), NOW);
        assertThat(c.publish()).isEmpty();
        assertThat(c.subscribe()).isEmpty();
        Claims wrongTypes = hs.verifyNow(token("{\"mercure\":{\"publish\":\"*\",\"subscribe\":[1,\"ok\"]}}"), NOW);
        assertThat(wrongTypes.publish()).isEmpty();
        assertThat(wrongTypes.subscribe()).isEqualTo(List.of("ok"));
    }

    @Test
    void refusesAlgNone() {
        String none = b64("{\"alg\":\"none\"}") + "." + b64("{\"mercure\":{\"publish\":[\"*\"]}}") + ".";
        assertThatThrownBy(() -> hs.verifyNow(none, NOW)).isInstanceOf(JwtException.class)
                .hasMessage("token algorithm none is not accepted; this hub accepts HS256");
    }

    @Test
    void refusesAWrongKeyAndATamperedPayload() throws Exception {
        byte[] other = "another-secret-that-is-32-bytes-long!".getBytes(UTF_8);
        assertThatThrownBy(() -> hs.verifyNow(hs256("{\"alg\":\"HS256\"}", "{}", other), NOW)).hasMessage("bad token signature");
        String good = token("{\"mercure\":{\"publish\":[]}}");
        String[] parts = good.split("\\.");
        String tampered = parts[0] + "." + b64("{\"mercure\":{\"publish\":[\"*\"]}}") + "." + parts[2];
        assertThatThrownBy(() -> hs.verifyNow(tampered, NOW)).hasMessage("bad token signature");
    }

    @Test
    void expiryAndNotBefore() throws Exception {
        assertThatThrownBy(() -> hs.verifyNow(token("{\"exp\":1800000000}"), NOW)).hasMessage("token expired");
        assertThat(hs.verifyNow(token("{\"exp\":1800000001}"), NOW).expiresAt()).contains(1_800_000_001L);
        assertThatThrownBy(() -> hs.verifyNow(token("{\"nbf\":1800000001}"), NOW)).hasMessage("token not valid yet");
        assertThat(JwtVerifier.hs256(KEY, Duration.ofSeconds(5)).verifyNow(token("{\"exp\":1799999999}"), NOW).expiresAt())
                .as("within the leeway").isPresent();
        assertThatThrownBy(() -> hs.verifyNow(token("{\"exp\":\"soon\"}"), NOW)).hasMessage("malformed token: exp is not a number");
    }

    @Test
    void malformedTokens() {
        assertThatThrownBy(() -> hs.verifyNow("abc", NOW)).hasMessageContaining("three dot-separated parts");
        assertThatThrownBy(() -> hs.verifyNow("a.b.c.d", NOW)).hasMessageContaining("three dot-separated parts");
        assertThatThrownBy(() -> hs.verifyNow("!!!.e30.x", NOW)).hasMessageContaining("header is not base64url");
        assertThatThrownBy(() -> hs.verifyNow(b64("[1]") + ".e30.x", NOW)).hasMessageContaining("header is not a JSON object");
        assertThatThrownBy(() -> JwtVerifier.hs256(new byte[10], Duration.ZERO)).hasMessageContaining("at least 32 bytes");
    }

    @Test
    void rs256AndNoAlgorithmConfusion() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        KeyPair pair = gen.generateKeyPair();
        String signed = b64("{\"alg\":\"RS256\"}") + "." + b64("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(pair.getPrivate());
        s.update(signed.getBytes(UTF_8));
        String rs = signed + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign());
        JwtVerifier verifier = JwtVerifier.rs256(pair.getPublic(), Duration.ZERO);
        assertThat(verifier.verifyNow(rs, NOW).subscribe()).containsExactly("*");
        // the classic confusion: an HS256 token whose HMAC key is the RSA public key's bytes
        String confused = hs256("{\"alg\":\"HS256\"}", "{\"mercure\":{\"publish\":[\"*\"]}}", pair.getPublic().getEncoded());
        assertThatThrownBy(() -> verifier.verifyNow(confused, NOW)).hasMessage("token algorithm HS256 is not accepted; this hub accepts RS256");
        assertThatThrownBy(() -> hs.verifyNow(rs, NOW)).hasMessage("token algorithm RS256 is not accepted; this hub accepts HS256");
    }
}
