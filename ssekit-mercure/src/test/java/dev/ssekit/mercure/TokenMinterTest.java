package dev.ssekit.mercure;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tokens {@link TokenMinter} mints, read back with Nimbus, and what its builder refuses. */
class TokenMinterTest {

    private static final String SECRET = "!ChangeThisMercureHubJWTSecretKey!";
    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

    private static TokenMinter.Builder minter() {
        return TokenMinter.builder().issuer("https://issuer.test").audience("https://hub.test/.well-known/mercure")
                .clock(Clock.fixed(NOW, ZoneOffset.UTC)).key(SECRET);
    }

    @Test
    void mintsAnRfc9068AccessTokenWithAuthorizationDetails() throws Exception {
        String token = minter().subject("user-1").ttl(Duration.ofMinutes(5)).build().mint(
                Grant.publish(TopicMatcher.any()),
                Grant.subscribe(TopicMatcher.urlPattern("https://example.com/books/:id"), TopicMatcher.exact("urn:a"))
                        .withPayload(Map.of("user", "u1")));
        SignedJWT jwt = SignedJWT.parse(token);
        assertThat(jwt.verify(new MACVerifier(SECRET.getBytes(UTF_8)))).isTrue();
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.HS256);
        assertThat(jwt.getHeader().getType()).isEqualTo(new JOSEObjectType("at+jwt"));
        JWTClaimsSet c = jwt.getJWTClaimsSet();
        assertThat(c.getIssuer()).isEqualTo("https://issuer.test");
        assertThat(c.getAudience()).containsExactly("https://hub.test/.well-known/mercure");
        assertThat(c.getSubject()).isEqualTo("user-1");
        assertThat(c.getStringClaim("client_id")).isEqualTo("ssekit-mercure");
        assertThat(c.getIssueTime().toInstant()).isEqualTo(NOW);
        assertThat(c.getExpirationTime().toInstant()).isEqualTo(NOW.plus(Duration.ofMinutes(5)));
        assertThat(c.getJWTID()).isNotBlank();
        assertThat(c.getClaim("authorization_details")).isEqualTo(List.of(
                Map.of("type", "https://mercure.rocks/authorization-detail", "actions", List.of("publish"),
                        "topics", List.of(Map.of("match", "*", "match_type", "exact"))),
                Map.of("type", "https://mercure.rocks/authorization-detail", "actions", List.of("subscribe"),
                        "topics", List.of(Map.of("match", "https://example.com/books/:id", "match_type", "urlpattern"),
                                Map.of("match", "urn:a", "match_type", "exact")),
                        "payload", Map.of("user", "u1"))));
        // each token its own jti
        TokenMinter m = minter().build();
        assertThat(SignedJWT.parse(m.mint()).getJWTClaimsSet().getJWTID())
                .isNotEqualTo(SignedJWT.parse(m.mint()).getJWTClaimsSet().getJWTID());
    }

    @Test
    void signsWithRsaAndEcPrivateKeysGivenAsObjectsOrPem() throws Exception {
        KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
        rsaGen.initialize(2048);
        KeyPair rsa = rsaGen.generateKeyPair();
        String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(UTF_8))
                .encodeToString(rsa.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        SignedJWT fromPem = SignedJWT.parse(minter().key(pem).build().mint());
        assertThat(fromPem.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(fromPem.verify(new RSASSAVerifier((RSAPublicKey) rsa.getPublic()))).isTrue();
        SignedJWT ps = SignedJWT.parse(minter().key(rsa.getPrivate()).algorithm("ps384").build().mint());
        assertThat(ps.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.PS384);
        assertThat(ps.verify(new RSASSAVerifier((RSAPublicKey) rsa.getPublic()))).isTrue();

        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair ec = ecGen.generateKeyPair();
        SignedJWT es = SignedJWT.parse(minter().key(ec.getPrivate()).keyId("k1").build().mint());
        assertThat(es.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES384);
        assertThat(es.getHeader().getKeyID()).isEqualTo("k1");
        assertThat(es.verify(new ECDSAVerifier((ECPublicKey) ec.getPublic()))).isTrue();
    }

    @Test
    void signsEdDsaWithAnEd25519KeyGivenAsPemOrObjectWithoutTink() throws Exception {
        KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        SignedJWT fromPem = SignedJWT.parse(minter().key(pem(ed)).build().mint(Grant.publish(TopicMatcher.any())));
        assertThat(fromPem.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.EdDSA);
        assertThat(fromPem.getHeader().getType()).isEqualTo(new JOSEObjectType("at+jwt"));
        assertThat(ed25519Verifies(ed.getPublic(), fromPem)).as("the JDK's Ed25519 verifies the signature").isTrue();
        assertThat(ed25519Verifies(KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic(), fromPem))
                .as("another key does not").isFalse();
        SignedJWT fromObject = SignedJWT.parse(minter().key(ed.getPrivate()).algorithm("eddsa").build().mint());
        assertThat(fromObject.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.EdDSA);
        assertThat(ed25519Verifies(ed.getPublic(), fromObject)).isTrue();
        // Ed448 is not EdDSA as JOSE hubs take it (RFC 8037 allows it; the hubs verify Ed25519); an EC key is not EdDSA
        KeyPair ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair();
        assertThatThrownBy(() -> minter().key(ed448.getPrivate()).build())
                .hasMessageStartingWith("key must be an HMAC secret, an RSA, EC or Ed25519 private key");
        assertThatThrownBy(() -> minter().key(pem(ed448)))
                .hasMessage("key holds a PKCS#8 key that is neither RSA, EC nor Ed25519");
        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        assertThatThrownBy(() -> minter().key(ecGen.generateKeyPair().getPrivate()).algorithm("EdDSA").build())
                .hasMessageStartingWith("algorithm EdDSA does not fit the key");
        assertThatThrownBy(() -> minter().key(ed.getPrivate()).algorithm("ES256").build())
                .hasMessageStartingWith("algorithm ES256 does not fit the key (");
    }

    /** The PKCS#8 PEM text of a key pair's private key, as {@code openssl genpkey} writes it. */
    static String pem(KeyPair pair) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(UTF_8))
                .encodeToString(pair.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    }

    private static boolean ed25519Verifies(java.security.PublicKey key, SignedJWT jwt) throws Exception {
        java.security.Signature v = java.security.Signature.getInstance("Ed25519");
        v.initVerify(key);
        v.update(jwt.getSigningInput());
        return v.verify(jwt.getSignature().decode());
    }

    @Test
    void theBuilderNamesTheSettingAndValueItRefuses() {
        assertThatThrownBy(() -> TokenMinter.builder().audience("a").key(SECRET).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("issuer is required");
        assertThatThrownBy(() -> TokenMinter.builder().issuer("i").key(SECRET).build())
                .hasMessageStartingWith("audience is required");
        assertThatThrownBy(() -> TokenMinter.builder().issuer("i").audience("a").build()).hasMessageStartingWith("key is required");
        assertThatThrownBy(() -> minter().key("short").build())
                .hasMessage("key: an HS256 secret must have at least 32 bytes, this one has 5");
        assertThatThrownBy(() -> minter().algorithm("HS512").build())
                .hasMessage("key: an HS512 secret must have at least 64 bytes, this one has 34");
        assertThatThrownBy(() -> minter().algorithm("RS256").build())
                .hasMessageStartingWith("algorithm RS256 does not fit the key (an HMAC secret of 34 bytes)");
        assertThatThrownBy(() -> minter().algorithm("none").build())
                .hasMessageStartingWith("algorithm must be one of").hasMessageEndingWith(": \"none\"");
        assertThatThrownBy(() -> minter().ttl(Duration.ofMillis(500)).build()).hasMessage("ttl must be at least 1 s: PT0.5S");
        assertThatThrownBy(() -> minter().key("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"))
                .hasMessageContaining("PKCS#8").hasMessageContaining("openssl pkcs8");
    }

    @Test
    void grantsAndMatchersValidateTheirValues() {
        assertThatThrownBy(() -> TopicMatcher.exact("")).hasMessage("match must not be empty");
        assertThatThrownBy(() -> TopicMatcher.urlPattern("https://example.com/\u0007"))
                .hasMessageStartingWith("match must not hold control or format characters (U+0007 at index 20)");
        assertThatThrownBy(() -> TopicMatcher.exact("a\u200bb")).hasMessageContaining("U+200B");
        assertThatThrownBy(Grant::publish).hasMessage("topics must not be empty");
        assertThat(TopicMatcher.any()).isEqualTo(new TopicMatcher("*", TopicMatcher.Type.EXACT));
    }
}
