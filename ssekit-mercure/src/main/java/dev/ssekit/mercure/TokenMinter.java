package dev.ssekit.mercure;


import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/**
 * Mints Mercure 1.0 access tokens: RFC 9068 JWTs ({@code typ: at+jwt}) with {@code iss}, {@code
 * aud}, {@code sub}, {@code client_id}, {@code iat}, {@code exp} and a random {@code jti}
 * (draft-dunglas-mercure-08 L464-470, L663-683), whose grants are RFC 9396 {@code
 * authorization_details} entries of type {@value Grant#TYPE} (L690-722).
 *
 * <pre>{@code
 * TokenMinter minter = TokenMinter.builder().issuer("https://example.com").audience("https://example.com/.well-known/mercure")
 *         .key("!ChangeThisMercureHubJWTSecretKey!").build();
 * String token = minter.mint(List.of(Grant.publish(TopicMatcher.urlPattern("https://example.com/books/:id"))));
 * }</pre>
 *
 * <p>Keys: an HMAC secret (HS256, HS384 or HS512; at least as many bytes as the hash: 32, 48, 64),
 * an RSA private key (RS256/384/512, PS256/384/512), an EC private key (ES256/384/512, by its
 * curve) or an Ed25519 private key (EdDSA, RFC 8037; signed with the JDK's own Ed25519, so Google
 * Tink is not needed). Thread-safe: {@link #mint} may be called from any thread.
 */
public final class TokenMinter {

    private final String issuer;
    private final List<String> audience;
    private final String subject;
    private final String clientId;
    private final Duration ttl;
    private final Clock clock;
    private final JWSAlgorithm algorithm;
    private final String keyId;
    private final JWSSigner signer;

    private TokenMinter(Builder b, JWSAlgorithm algorithm, JWSSigner signer) {
        this.issuer = b.issuer;
        this.audience = List.copyOf(b.audience);
        this.clientId = b.clientId;
        this.subject = b.subject != null ? b.subject : b.clientId;
        this.ttl = b.ttl;
        this.clock = b.clock;
        this.algorithm = algorithm;
        this.keyId = b.keyId;
        this.signer = signer;
    }

    /**
     * A new builder.
     *
     * @return a builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Mints a token valid from now for the builder's {@code ttl}.
     *
     * @param grants its {@code authorization_details}, in order; may be empty (a token that grants
     *     nothing still authenticates a subscriber)
     * @return the compact JWS
     * @throws NullPointerException if {@code grants} or an element is null
     * @throws IllegalStateException if signing fails (a key the JCA provider refuses)
     */
    public String mint(List<Grant> grants) {
        List<Object> details = new ArrayList<>();
        for (Grant g : grants) {
            details.add(Objects.requireNonNull(g, "grant").toClaim());
        }
        Instant now = clock.instant();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .audience(audience)
                .subject(subject)
                .claim("client_id", clientId)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString())
                .claim("authorization_details", details);
        JWSHeader.Builder header = new JWSHeader.Builder(algorithm).type(new JOSEObjectType("at+jwt"));
        if (keyId != null) {
            header.keyID(keyId);
        }
        SignedJWT jwt = new SignedJWT(header.build(), claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing the token with " + algorithm + " failed: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /**
     * Mints a token with these grants.
     *
     * @param grants its {@code authorization_details}
     * @return the compact JWS
     * @throws IllegalStateException as {@link #mint(List)}
     */
    public String mint(Grant... grants) {
        return mint(Arrays.asList(grants));
    }

    /**
     * How long a minted token is valid.
     *
     * @return the builder's {@code ttl}
     */
    public Duration ttl() {
        return ttl;
    }

    /**
     * The clock the tokens are dated by.
     *
     * @return the builder's clock
     */
    public Clock clock() {
        return clock;
    }

    /**
     * Builds a {@link TokenMinter}. Setters reject null; {@link #build()} validates and names the
     * setting and value it rejects. Not thread-safe.
     */
    public static final class Builder {
        private String issuer;
        private final List<String> audience = new ArrayList<>();
        private String subject;
        private String clientId = "ssekit-mercure";
        private Duration ttl = Duration.ofHours(1);
        private Clock clock = Clock.systemUTC();
        private String algorithm;
        private String keyId;
        private Keys.SigningKey key;

        private Builder() {
        }

        /**
         * The {@code iss}: one of the hub's trusted issuers ({@code --issuer} of ssekit-hub). Required.
         *
         * @param issuer the issuer identifier
         * @return this builder
         */
        public Builder issuer(String issuer) {
            this.issuer = Objects.requireNonNull(issuer, "issuer");
            return this;
        }

        /**
         * Adds an {@code aud} value: the hub's resource identifier ({@code --resource-id}, by default
         * the hub URL). At least one is required.
         *
         * @param audience the resource identifier
         * @return this builder
         */
        public Builder audience(String audience) {
            this.audience.add(Objects.requireNonNull(audience, "audience"));
            return this;
        }

        /**
         * The {@code sub}. Default: the {@link #clientId client id}.
         *
         * @param subject the subject
         * @return this builder
         */
        public Builder subject(String subject) {
            this.subject = Objects.requireNonNull(subject, "subject");
            return this;
        }

        /**
         * The {@code client_id}. Default {@code ssekit-mercure}.
         *
         * @param clientId the client id
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * How long each token is valid ({@code exp - iat}). Hubs close a subscription no later than
         * its token's {@code exp}; {@link MercureClient} mints a fresh token for each connection.
         * Default 1 hour.
         *
         * @param ttl at least 1 second
         * @return this builder
         */
        public Builder ttl(Duration ttl) {
            this.ttl = Objects.requireNonNull(ttl, "ttl");
            return this;
        }

        /**
         * The clock for {@code iat} and {@code exp}. Default {@link Clock#systemUTC()}.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The signing key, as the hub's {@code --publisher-jwt-key} takes it: a PEM private key
         * ({@code -----BEGIN PRIVATE KEY-----}, PKCS#8: RSA, EC or Ed25519, e.g. from {@code
         * openssl genpkey -algorithm ed25519}) or, otherwise, an HMAC secret
         * (its UTF-8 bytes). Replaces any key set before.
         *
         * @param key the secret or PEM text
         * @return this builder
         * @throws IllegalArgumentException if the text starts as PEM but is no PKCS#8 RSA, EC or
         *     Ed25519 private key (the message names the setting)
         */
        public Builder key(String key) {
            return signingKey(Keys.signingKey("key", key));
        }

        /**
         * An HMAC secret. Replaces any key set before.
         *
         * @param secret the secret's bytes (copied)
         * @return this builder
         */
        public Builder secret(byte[] secret) {
            return signingKey(Keys.SigningKey.ofSecret(secret));
        }

        /**
         * An RSA, EC or Ed25519 private key. Replaces any key set before.
         *
         * @param key the key
         * @return this builder
         */
        public Builder key(PrivateKey key) {
            return signingKey(Keys.SigningKey.ofPrivateKey(key));
        }

        /** The signing key as {@link Keys} loaded it (the path {@link MercureClient.Builder} shares). Replaces any key set before. */
        Builder signingKey(Keys.SigningKey key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * The JWS algorithm, e.g. {@code HS256}, {@code RS256}, {@code ES256}, {@code EdDSA}
         * (case-insensitive). Default: HS256 for a secret, RS256 for an RSA key, the curve's ES
         * algorithm for an EC key, EdDSA for an Ed25519 key.
         *
         * @param algorithm the algorithm's name
         * @return this builder
         */
        public Builder algorithm(String algorithm) {
            this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
            return this;
        }

        /**
         * The {@code kid} header, a hint for hubs that read keys from a JWK set. Default: none.
         *
         * @param keyId the key id
         * @return this builder
         */
        public Builder keyId(String keyId) {
            this.keyId = Objects.requireNonNull(keyId, "keyId");
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the minter
         * @throws IllegalArgumentException naming the setting and its value when one is missing or
         *     invalid: no issuer, no audience, no key, a ttl under 1 s, an algorithm that does not
         *     fit the key, an HMAC secret shorter than its hash
         */
        public TokenMinter build() {
            if (issuer == null || issuer.isBlank()) {
                throw new IllegalArgumentException("issuer is required (the iss the hub trusts, its --issuer): \""
                        + (issuer == null ? "" : issuer) + "\"");
            }
            if (audience.isEmpty() || audience.stream().anyMatch(String::isBlank)) {
                throw new IllegalArgumentException("audience is required (the hub's resource identifier, by default its URL): "
                        + audience);
            }
            if (clientId.isBlank()) {
                throw new IllegalArgumentException("clientId must not be blank: \"" + clientId + "\"");
            }
            if (subject != null && subject.isBlank()) {
                throw new IllegalArgumentException("subject must not be blank: \"" + subject + "\"");
            }
            if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("ttl must be at least 1 s: " + ttl);
            }
            if (key == null) {
                throw new IllegalArgumentException("key is required: an HMAC secret or a private key");
            }
            byte[] secret = key.secret();
            PrivateKey privateKey = key.privateKey();
            JWSAlgorithm alg = algorithm();
            try {
                JWSSigner signer;
                if (secret != null) {
                    signer = new MACSigner(secret);
                } else if (privateKey instanceof RSAPrivateKey rsa) {
                    signer = new RSASSASigner(rsa);
                } else if (Ed25519Signer.isEd25519(privateKey)) {
                    signer = new Ed25519Signer(privateKey);
                } else if (privateKey instanceof ECPrivateKey) {
                    signer = new ECDSASigner((ECPrivateKey) privateKey);
                } else {
                    throw new IllegalArgumentException("key must be an HMAC secret, an RSA, EC or Ed25519 private key, got a "
                            + privateKey.getAlgorithm() + " key");
                }
                if (!signer.supportedJWSAlgorithms().contains(alg)) {
                    throw new IllegalArgumentException("algorithm " + alg + " does not fit the key (" + keyKind() + "); it takes "
                            + signer.supportedJWSAlgorithms());
                }
                return new TokenMinter(this, alg, signer);
            } catch (JOSEException e) {
                throw new IllegalArgumentException("key does not fit algorithm " + alg + ": " + e.getMessage(), e);
            }
        }

        private String keyKind() {
            return key.secret() != null ? "an HMAC secret of " + key.secret().length + " bytes" : key.privateKey().getAlgorithm()
                    + " private key";
        }

        private JWSAlgorithm algorithm() {
            byte[] secret = key.secret();
            PrivateKey privateKey = key.privateKey();
            if (algorithm != null) {
                String name = algorithm.strip().toUpperCase(Locale.ROOT);
                JWSAlgorithm alg = name.equals("EDDSA") ? JWSAlgorithm.EdDSA : JWSAlgorithm.parse(name);
                boolean known = JWSAlgorithm.Family.HMAC_SHA.contains(alg) || JWSAlgorithm.Family.RSA.contains(alg)
                        || JWSAlgorithm.Family.EC.contains(alg) || alg.equals(JWSAlgorithm.EdDSA);
                if (!known) {
                    throw new IllegalArgumentException("algorithm must be one of HS256, HS384, HS512, RS256, RS384, RS512,"
                            + " PS256, PS384, PS512, ES256, ES384, ES512, EdDSA: \"" + algorithm + "\"");
                }
                if (secret != null && alg.getName().startsWith("HS")) {
                    int need = Integer.parseInt(alg.getName().substring(2)) / 8;
                    if (secret.length < need) {
                        throw new IllegalArgumentException("key: an " + alg + " secret must have at least " + need
                                + " bytes, this one has " + secret.length);
                    }
                }
                return alg;
            }
            if (secret != null) {
                if (secret.length < 32) {
                    throw new IllegalArgumentException("key: an HS256 secret must have at least 32 bytes, this one has "
                            + secret.length);
                }
                return JWSAlgorithm.HS256;
            }
            if (privateKey instanceof RSAPrivateKey) {
                return JWSAlgorithm.RS256;
            }
            if (Ed25519Signer.isEd25519(privateKey)) {
                return JWSAlgorithm.EdDSA;
            }
            if (privateKey instanceof ECPrivateKey ec) {
                int bits = ec.getParams().getCurve().getField().getFieldSize();
                return switch (bits) {
                    case 256 -> JWSAlgorithm.ES256;
                    case 384 -> JWSAlgorithm.ES384;
                    case 521 -> JWSAlgorithm.ES512;
                    default -> throw new IllegalArgumentException("key: an EC key on a " + bits
                            + "-bit curve fits no JWS algorithm (P-256, P-384, P-521 do)");
                };
            }
            throw new IllegalArgumentException("key must be an HMAC secret, an RSA, EC or Ed25519 private key, got a "
                    + privateKey.getAlgorithm() + " key");
        }
    }
}
