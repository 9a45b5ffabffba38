package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.ssekit.Ticker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Verifies compact JWS tokens (RFC 7515/7519) with nimbus-jose-jwt, against one static key (an
 * HMAC secret or a PEM public key) or the keys of a JWK set fetched over HTTP. The algorithm is
 * always pinned to the key's type: {@code alg: none} is never accepted, nor an HMAC algorithm with
 * a public key, nor an RSA algorithm with an EC key. {@code exp} and {@code nbf} are checked
 * against the given time with no leeway.
 *
 * <p>Thread-safe. A verifier built from a static key holds no resources; a JWKS verifier owns a
 * daemon scheduler thread that {@link #close()} stops.
 */
final class JwtVerifier implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(JwtVerifier.class.getName());

    /** Every algorithm a verifier may accept, by its JWS name. */
    static final List<String> ALGORITHMS = List.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA");
    /** How often the hub refreshes a JWKS by default. */
    static final Duration DEFAULT_REFRESH = Duration.ofMinutes(5);
    /** The hub's default least time between two refetches caused by unknown key ids. */
    static final Duration DEFAULT_MIN_REFETCH = Duration.ofSeconds(30);
    /** The largest JWKS document accepted. */
    static final int MAX_JWKS_BYTES = 1 << 20;
    /** The longest a JWKS fetch may take. */
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);

    /**
     * The longest token accepted, in characters: the hub's whole request head is 8 KiB (Netty's
     * limit), so no token that reaches it through a header is longer. Checked before anything is
     * decoded, so that verifying costs at most this much input, whatever server reads the request.
     */
    static final int MAX_TOKEN_LENGTH = 8192;

    /** The shortest RSA key accepted (RFC 7518 3.3). */
    static final int MIN_RSA_BITS = 2048;
    private static final Set<JWSAlgorithm> RSA_ALGS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512);
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows. */
    private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]{1,40})-----");
    private static final Pattern PRINTABLE_ALG = Pattern.compile("[A-Za-z0-9+_-]{1,20}");

    /**
     * One verification key.
     *
     * @param kid its key id, or null
     * @param algorithms the algorithms it accepts (never empty, never {@code none})
     * @param verifier checks signatures with it
     * @param description what it is, for error messages (never the key material)
     */
    private record Key(String kid, Set<JWSAlgorithm> algorithms, JWSVerifier verifier, String description) {
        Key only(JWSAlgorithm alg) {
            return new Key(kid, Set.of(alg), verifier, description);
        }
    }

    /** A token split and its header parsed; its signature is not verified yet. */
    private record Parsed(JWSHeader header, byte[] signingInput, Base64URL signature, String payload) {
    }

    private final Key key; // null for a JWKS verifier
    private final Jwks jwks; // null for a static key

    /**
     * The tokens verified lately, by their text: a publisher or subscriber sending the same token
     * again skips decoding and the signature check. Only verified tokens are kept (an attacker cannot
     * fill it without a key), each with the keys that verified it: it counts only while those are
     * still the current keys (a rotated JWK set verifies again) and until the token's {@code exp}.
     * Bounded by the tokens' total length.
     */
    private final Cache<String, Verified> verified = Caffeine.newBuilder()
            .maximumWeight(VERIFIED_CACHE_CHARS)
            .weigher((String token, Verified v) -> token.length() + 200)
            .expireAfterAccess(Duration.ofMinutes(10))
            .build();

    /** The most characters of tokens (plus ~200 per entry) the verified-token cache holds. */
    static final int VERIFIED_CACHE_CHARS = 16 << 20;

    /** A verified token's claims and the keys (the static key or a JWK set's list) that verified it. */
    private record Verified(Claims claims, Object keys) {
    }

    private JwtVerifier(Key key, Jwks jwks) {
        this.key = key;
        this.jwks = jwks;
    }

    /**
     * A verifier for an HMAC shared secret. It accepts HS256, HS384 and HS512, each only when the
     * secret is at least as long as that algorithm's hash (RFC 7518 3.2: 32, 48, 64 bytes).
     *
     * @param secret the shared secret, copied
     * @return a verifier; thread-safe, holds no resources
     * @throws IllegalArgumentException if the secret is shorter than 32 bytes: "an HMAC key must be
     *     at least 32 bytes (256 bits), got N"
     */
    static JwtVerifier secret(byte[] secret) {
        if (secret.length < 32) {
            throw new IllegalArgumentException("an HMAC key must be at least 32 bytes (256 bits), got " + secret.length);
        }
        Set<JWSAlgorithm> algs = new LinkedHashSet<>();
        algs.add(JWSAlgorithm.HS256);
        if (secret.length >= 48) {
            algs.add(JWSAlgorithm.HS384);
        }
        if (secret.length >= 64) {
            algs.add(JWSAlgorithm.HS512);
        }
        try {
            return new JwtVerifier(new Key(null, Set.copyOf(algs), new MACVerifier(secret.clone()),
                    "an HMAC secret of " + secret.length + " bytes"), null);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("an HMAC key must be at least 32 bytes (256 bits), got " + secret.length, e);
        }
    }

    /**
     * A verifier for a PEM public key ({@code -----BEGIN PUBLIC KEY-----}, a DER
     * SubjectPublicKeyInfo): an RSA key accepts RS256, RS384 and RS512; an EC P-256 key ES256; an
     * EC P-384 key ES384; an Ed25519 key EdDSA.
     *
     * @param pem the PEM text
     * @return a verifier; thread-safe, holds no resources
     * @throws IllegalArgumentException if the text is not a PEM public key, or the key is of another
     *     type or curve; the message says what was found
     */
    static JwtVerifier publicKey(String pem) {
        String text = pem.strip();
        if (!text.startsWith("-----BEGIN PUBLIC KEY-----")) {
            Matcher m = PEM_BEGIN.matcher(text);
            throw new IllegalArgumentException("expected a PEM public key (-----BEGIN PUBLIC KEY-----), found "
                    + (m.lookingAt() ? m.group() : "no PEM header"));
        }
        if (!text.endsWith("-----END PUBLIC KEY-----")) {
            throw new IllegalArgumentException("a PEM public key must end with -----END PUBLIC KEY-----");
        }
        String body = text.substring("-----BEGIN PUBLIC KEY-----".length(), text.length() - "-----END PUBLIC KEY-----".length())
                .replaceAll("\\s", "");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the PEM public key is not valid base64", e);
        }
        return new JwtVerifier(keyOf(null, subjectPublicKeyInfo(der)), null);
    }

    /**
     * A verifier for a hub setting: a value starting with {@code -----BEGIN} is a PEM public key (see
     * {@link #publicKey}), anything else an HMAC secret, its UTF-8 bytes (see {@link #secret}).
     *
     * @param setting the setting's name, for error messages
     * @param key the setting's value
     * @param algorithm when present, the one algorithm accepted (case-insensitive); it must fit the
     *     key's type
     * @return a verifier; thread-safe, holds no resources
     * @throws IllegalArgumentException naming the setting, if the key is unusable or the algorithm
     *     does not fit it (the message names the algorithm, never the key)
     */
    static JwtVerifier fromSetting(String setting, String key, Optional<String> algorithm) {
        Key k;
        try {
            k = (key.startsWith("-----BEGIN") ? publicKey(key) : secret(key.getBytes(UTF_8))).key;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + ": " + e.getMessage(), e);
        }
        if (algorithm.isPresent()) {
            String wanted = algorithm.get();
            Optional<JWSAlgorithm> alg = k.algorithms().stream().filter(a -> a.getName().equalsIgnoreCase(wanted)).findFirst();
            if (alg.isEmpty()) {
                throw new IllegalArgumentException(setting + ": algorithm \"" + wanted + "\" does not fit " + k.description()
                        + ", which accepts " + names(k.algorithms()));
            }
            k = k.only(alg.get());
        }
        return new JwtVerifier(k, null);
    }

    /**
     * A verifier for the keys of a JWK set (RFC 7517) at a URL, fetched at once and then every
     * {@code refreshEvery}, and again when a token names an unknown key id (at most once per {@code
     * minRefetch}). Fetches use {@link HttpClient#sendAsync}, take at most 5 seconds and 1 MiB; a
     * failed fetch keeps the previous keys and logs a warning. Symmetric ({@code oct}) keys in the
     * set are refused with a warning.
     *
     * @param url where the JWK set is
     * @param http the client that fetches it
     * @param refreshEvery the time between periodic fetches
     * @param minRefetch the least time between two fetches caused by unknown key ids
     * @return a verifier; thread-safe; it owns a daemon thread until {@link #close()}
     * @throws IllegalArgumentException if a duration is not positive
     */
    static JwtVerifier jwks(URI url, HttpClient http, Duration refreshEvery, Duration minRefetch) {
        return jwks(url, http, refreshEvery, minRefetch, Ticker.system());
    }

    /**
     * As {@link #jwks(URI, HttpClient, Duration, Duration)}, with the ticker that measures {@code
     * minRefetch} (for tests).
     */
    static JwtVerifier jwks(URI url, HttpClient http, Duration refreshEvery, Duration minRefetch, Ticker ticker) {
        if (refreshEvery.isNegative() || refreshEvery.isZero() || minRefetch.isNegative()) {
            throw new IllegalArgumentException("JWKS refresh periods must be positive, got " + refreshEvery + " and " + minRefetch);
        }
        Jwks jwks = new Jwks(Objects.requireNonNull(url, "url"), Objects.requireNonNull(http, "http"), minRefetch,
                Objects.requireNonNull(ticker, "ticker"));
        jwks.start(refreshEvery);
        return new JwtVerifier(null, jwks);
    }

    /**
     * Verifies a token and reads its Mercure claims. Never blocks the calling thread: with a static
     * key, or a JWKS whose keys are at hand, the stage is already complete when this returns (the
     * work is done on the caller's thread); it completes later, on another thread, only when a JWKS
     * must be fetched first.
     *
     * @param token the compact JWS; one longer than {@link #MAX_TOKEN_LENGTH} characters is refused
     *     before anything in it is decoded (its JSON nests at most 255 deep: nimbus refuses deeper)
     * @param now the time {@code exp} and {@code nbf} are checked against, with no leeway
     * @return the claims, or a stage completed exceptionally with a {@link JwtException} whose
     *     message is the reason to show the client ("bad token signature", "token expired", "token
     *     not valid yet", "malformed token: …", "unknown key id", "the signing keys are not
     *     available", …); it never contains key material. Thread-safe.
     */
    CompletionStage<Claims> verify(String token, Instant now) {
        Object keys = currentKeys();
        Verified hit = verified.getIfPresent(token);
        if (hit != null && hit.keys() == keys) {
            Optional<Long> exp = hit.claims().expiresAt();
            if (exp.isEmpty() || now.getEpochSecond() < exp.get()) {
                return CompletableFuture.completedFuture(hit.claims());
            }
            verified.invalidate(token);
        }
        CompletionStage<Claims> result = verifyNow(token, now);
        if (keys != null) {
            // stamped with the keys current before the check began: if they changed meanwhile, the
            // entry never matches and the token is simply verified again next time
            result.thenAccept(claims -> verified.put(token, new Verified(claims, keys)));
        }
        return result;
    }

    /** The keys a verification uses now: the static key, or the JWK set's current list (null before the first fetch). */
    private Object currentKeys() {
        return jwks == null ? key : jwks.keys;
    }

    /** {@link #verify} without the cache. */
    private CompletionStage<Claims> verifyNow(String token, Instant now) {
        Parsed parsed;
        try {
            parsed = parse(token);
        } catch (JwtException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (jwks != null) {
            return jwks.verify(parsed, now);
        }
        try {
            JWSAlgorithm alg = parsed.header().getAlgorithm();
            if (!key.algorithms().contains(alg)) {
                throw new JwtException("token algorithm " + printable(alg) + " is not accepted; this hub accepts " + names(key.algorithms()));
            }
            return CompletableFuture.completedFuture(check(parsed, key, now));
        } catch (JwtException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * A stage that completes (normally) when the JWKS fetch after this call's, or the one in flight,
     * ends, successfully or not. For tests; a static-key verifier returns a completed stage.
     */
    CompletableFuture<Void> afterNextFetch() {
        return jwks == null ? CompletableFuture.completedFuture(null) : jwks.afterNextFetch();
    }

    /** Stops the periodic JWKS refresh and its thread; idempotent, thread-safe, never throws. */
    @Override
    public void close() {
        if (jwks != null) {
            jwks.scheduler.shutdownNow();
        }
    }

    // ---- parsing and checking

    /** Splits the token and parses its header; JwtException if it is malformed or unsigned. */
    private static Parsed parse(String token) throws JwtException {
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw new JwtException("malformed token: longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        int dot1 = token.indexOf('.');
        int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
        if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
            throw new JwtException("malformed token: a JWS has three dot-separated parts");
        }
        String headerPart = token.substring(0, dot1);
        Map<String, Object> headerJson = json(headerPart, "header");
        Object alg = headerJson.get("alg");
        if (!(alg instanceof String)) {
            throw new JwtException("malformed token: the header has no alg");
        }
        if (((String) alg).equalsIgnoreCase("none")) {
            throw new JwtException("token algorithm none is not accepted");
        }
        if (headerJson.containsKey("enc")) {
            throw new JwtException("malformed token: encrypted tokens are not accepted");
        }
        JWSHeader header;
        try {
            header = JWSHeader.parse(headerJson, new Base64URL(headerPart));
        } catch (ParseException | RuntimeException e) {
            throw new JwtException("malformed token: the header is not a valid JWS header");
        }
        String signature = token.substring(dot2 + 1);
        try {
            Base64.getUrlDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            throw new JwtException("malformed token: the signature is not base64url");
        }
        return new Parsed(header, token.substring(0, dot2).getBytes(US_ASCII), new Base64URL(signature),
                token.substring(dot1 + 1, dot2));
    }

    /** Checks the signature with this key (whose algorithms hold the token's), then the claims. */
    private static Claims check(Parsed token, Key key, Instant now) throws JwtException {
        boolean valid;
        try {
            valid = key.verifier().verify(token.header(), token.signingInput(), token.signature());
        } catch (JOSEException | RuntimeException e) {
            valid = false; // e.g. an ECDSA signature of the wrong length
        }
        if (!valid) {
            throw new JwtException("bad token signature");
        }
        Map<String, Object> payload = json(token.payload(), "payload");
        long nowSeconds = now.getEpochSecond();
        Object exp = payload.get("exp");
        if (exp != null && !(exp instanceof Number)) {
            throw new JwtException("malformed token: exp is not a number");
        }
        Object nbf = payload.get("nbf");
        if (nbf != null && !(nbf instanceof Number)) {
            throw new JwtException("malformed token: nbf is not a number");
        }
        if (exp instanceof Number n && nowSeconds >= n.longValue()) {
            throw new JwtException("token expired");
        }
        if (nbf instanceof Number n && nowSeconds < n.longValue()) {
            throw new JwtException("token not valid yet");
        }
        try {
            JWTClaimsSet.parse(payload); // the registered claims' types
        } catch (ParseException e) {
            throw new JwtException("malformed token: a registered claim has the wrong type");
        }
        return Claims.from(payload, Optional.ofNullable(token.header().getType()).map(Object::toString));
    }

    /** A base64url part decoded as a JSON object (Maps and Lists inside); JwtException otherwise. */
    private static Map<String, Object> json(String part, String what) throws JwtException {
        String text;
        try {
            text = new String(Base64.getUrlDecoder().decode(part), UTF_8);
        } catch (IllegalArgumentException e) {
            throw new JwtException("malformed token: the " + what + " is not base64url");
        }
        Map<String, Object> object;
        try {
            object = JSONObjectUtils.parse(text);
        } catch (ParseException | RuntimeException e) {
            object = null;
        }
        if (object == null) { // nimbus parses the JSON literal null to null
            throw new JwtException("malformed token: the " + what + " is not a JSON object");
        }
        return object;
    }

    /** The algorithm's name when it is safe to echo in a 401 reason. */
    private static String printable(JWSAlgorithm alg) {
        return PRINTABLE_ALG.matcher(alg.getName()).matches() ? alg.getName() : "(unprintable)";
    }

    /** The algorithms' names, sorted and comma-separated. */
    private static String names(Set<JWSAlgorithm> algs) {
        return algs.stream().map(JWSAlgorithm::getName).sorted().collect(Collectors.joining(", "));
    }

    // ---- keys

    /** The JDK public key for a DER SubjectPublicKeyInfo of any type the JDK knows; IllegalArgumentException if none. */
    private static PublicKey subjectPublicKeyInfo(byte[] der) {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
        for (String type : List.of("RSA", "EC", "Ed25519", "Ed448", "X25519", "X448", "DSA", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(type).generatePublic(spec);
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this type
            }
        }
        throw new IllegalArgumentException("the PEM public key is of a type this JDK does not know"
                + " (supported: RSA, EC P-256, EC P-384, Ed25519)");
    }

    /** The key for a JDK public key; IllegalArgumentException says what was found if unsupported. */
    private static Key keyOf(String kid, PublicKey pub) {
        try {
            if (pub instanceof RSAPublicKey rsa) {
                if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                    // RFC 7518 3.3: RS* keys are 2048 bits or more; a shorter one can be factored
                    throw new IllegalArgumentException("found an RSA public key of " + rsa.getModulus().bitLength()
                            + " bits; at least " + MIN_RSA_BITS + " are required");
                }
                return new Key(kid, RSA_ALGS, new RSASSAVerifier(rsa), "an RSA public key");
            }
            if (pub instanceof ECPublicKey ec) {
                Curve curve = Curve.forECParameterSpec(ec.getParams());
                if (Curve.P_256.equals(curve)) {
                    return new Key(kid, Set.of(JWSAlgorithm.ES256), new ECDSAVerifier(ec), "an EC P-256 public key");
                }
                if (Curve.P_384.equals(curve)) {
                    return new Key(kid, Set.of(JWSAlgorithm.ES384), new ECDSAVerifier(ec), "an EC P-384 public key");
                }
                throw new IllegalArgumentException("found an EC public key on curve " + (curve == null ? "(unnamed)" : curve.getName())
                        + "; supported are P-256 (ES256) and P-384 (ES384)");
            }
            if ("Ed25519".equals(pub.getAlgorithm())
                    || pub instanceof java.security.interfaces.EdECPublicKey ed && "Ed25519".equals(ed.getParams().getName())) {
                return new Key(kid, Set.of(JWSAlgorithm.EdDSA), new Ed25519Verifier(pub), "an Ed25519 public key");
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("found an unusable " + pub.getAlgorithm() + " public key", e);
        }
        String type = pub instanceof java.security.interfaces.EdECPublicKey ed ? ed.getParams().getName()
                : pub instanceof java.security.interfaces.XECPublicKey x && x.getParams() instanceof java.security.spec.NamedParameterSpec n
                        ? n.getName() : pub.getAlgorithm();
        throw new IllegalArgumentException("found a public key of type " + type + "; supported are RSA, EC P-256, EC P-384 and Ed25519");
    }

    /** The key for a JWK, or empty (logged) if it must not or cannot be used. */
    private static Optional<Key> keyOf(JWK jwk, URI from) {
        String kid = jwk.getKeyID();
        String named = kid == null ? "a key without kid" : "key \"" + kid + "\"";
        if (jwk instanceof OctetSequenceKey) {
            LOG.log(Level.WARNING, "JWKS {0}: refusing {1}: a symmetric (oct) key has no place in a public key set", from, named);
            return Optional.empty();
        }
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            LOG.log(Level.DEBUG, "JWKS {0}: ignoring {1}, whose use is not sig", from, named);
            return Optional.empty();
        }
        Key key;
        try {
            if (jwk instanceof RSAKey rsa) {
                key = keyOf(kid, rsa.toRSAPublicKey());
            } else if (jwk instanceof ECKey ec) {
                key = keyOf(kid, ec.toECPublicKey());
            } else if (jwk instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())) {
                byte[] x = okp.getDecodedX();
                if (x.length != 32) {
                    throw new IllegalArgumentException("an Ed25519 key has 32 bytes, got " + x.length);
                }
                byte[] der = new byte[ED25519_SPKI_PREFIX.length + 32];
                System.arraycopy(ED25519_SPKI_PREFIX, 0, der, 0, ED25519_SPKI_PREFIX.length);
                System.arraycopy(x, 0, der, ED25519_SPKI_PREFIX.length, 32);
                key = keyOf(kid, KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
            } else {
                throw new IllegalArgumentException("unsupported key type " + jwk.getKeyType()
                        + (jwk instanceof OctetKeyPair okp ? " " + okp.getCurve() : ""));
            }
        } catch (JOSEException | GeneralSecurityException | IllegalArgumentException e) {
            LOG.log(Level.WARNING, "JWKS {0}: ignoring {1}: {2}", from, named, e.getMessage());
            return Optional.empty();
        }
        if (jwk.getAlgorithm() != null) {
            JWSAlgorithm declared = JWSAlgorithm.parse(jwk.getAlgorithm().getName());
            if (!key.algorithms().contains(declared)) {
                LOG.log(Level.WARNING, "JWKS {0}: ignoring {1}: its alg {2} does not fit {3}", from, named,
                        jwk.getAlgorithm().getName(), key.description());
                return Optional.empty();
            }
            key = key.only(declared);
        }
        return Optional.of(key);
    }

    /**
     * EdDSA with Ed25519 on the JDK's own {@code Signature.getInstance("Ed25519")} (JDK 15+), so
     * that Nimbus's Tink-based Ed25519Verifier and its dependency are not needed.
     */
    private static final class Ed25519Verifier implements JWSVerifier {
        private final PublicKey key;
        private final JCAContext jca = new JCAContext();

        Ed25519Verifier(PublicKey key) {
            this.key = key;
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
            return Set.of(JWSAlgorithm.EdDSA);
        }

        @Override
        public JCAContext getJCAContext() {
            return jca;
        }

        @Override
        public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
            if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) {
                throw new JOSEException("unsupported algorithm " + header.getAlgorithm());
            }
            if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
                return false; // no critical extension is understood (RFC 7515 4.1.11)
            }
            try {
                Signature ed = Signature.getInstance("Ed25519");
                ed.initVerify(key);
                ed.update(signingInput);
                return ed.verify(signature.decode());
            } catch (SignatureException e) {
                return false;
            } catch (InvalidKeyException | java.security.NoSuchAlgorithmException e) {
                throw new JOSEException("Ed25519 is unavailable: " + e.getMessage(), e);
            }
        }
    }

    // ---- JWKS

    /** The keys of a JWK set, fetched asynchronously; all mutable state is guarded by {@code this}. */
    private static final class Jwks {
        private final URI url;
        private final HttpClient http;
        private final long minRefetchNanos;
        private final Ticker ticker;
        final ScheduledExecutorService scheduler;

        /** The usable keys of the last successful fetch; null before one. */
        private volatile List<Key> keys;
        /** Completes when the first fetch ends; set once, in {@link #start}, before the verifier is shared. */
        private volatile CompletableFuture<Void> first;
        private CompletableFuture<Void> inFlight;
        private CompletableFuture<Void> nextFetchDone = new CompletableFuture<>();
        private boolean refetched;
        private long lastRefetch;

        Jwks(URI url, HttpClient http, Duration minRefetch, Ticker ticker) {
            this.url = url;
            this.http = http;
            this.minRefetchNanos = minRefetch.toNanos();
            this.ticker = ticker;
            ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "ssekit-hub-jwks");
                t.setDaemon(true);
                return t;
            });
            s.setRemoveOnCancelPolicy(true);
            s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            this.scheduler = s;
        }

        /** Starts the first fetch and the periodic refresh. */
        void start(Duration refreshEvery) {
            first = fetch();
            scheduler.scheduleWithFixedDelay(this::fetch, refreshEvery.toNanos(), refreshEvery.toNanos(), TimeUnit.NANOSECONDS);
        }

        /** As {@link JwtVerifier#verify}: waits (asynchronously) for the first fetch if no keys are at hand yet. */
        CompletionStage<Claims> verify(Parsed token, Instant now) {
            CompletableFuture<Void> firstFetch = first;
            if (keys == null && !firstFetch.isDone()) {
                return firstFetch.thenCompose(x -> withKeys(token, now, true));
            }
            return withKeys(token, now, true);
        }

        /**
         * Verifies with the keys at hand; an unknown kid (or no keys) waits for a refetch when {@code
         * mayRefetch} and the rate limit allow one, else fails at once.
         */
        private CompletionStage<Claims> withKeys(Parsed token, Instant now, boolean mayRefetch) {
            List<Key> current = keys;
            try {
                if (current != null) {
                    Key key = choose(current, token.header());
                    if (key != null) {
                        return CompletableFuture.completedFuture(check(token, key, now));
                    }
                }
                CompletableFuture<Void> refetch = mayRefetch ? refetch() : null;
                if (refetch != null) {
                    return refetch.thenCompose(x -> withKeys(token, now, false));
                }
                throw new JwtException(current == null ? "the signing keys are not available" : "unknown key id");
            } catch (JwtException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        /** The key for this header; null if its kid is unknown; JwtException if none fits. */
        private static Key choose(List<Key> keys, JWSHeader header) throws JwtException {
            JWSAlgorithm alg = header.getAlgorithm();
            String kid = header.getKeyID();
            if (kid != null) {
                List<Key> named = keys.stream().filter(k -> kid.equals(k.kid())).toList();
                if (named.isEmpty()) {
                    return null;
                }
                for (Key k : named) {
                    if (k.algorithms().contains(alg)) {
                        return k;
                    }
                }
                throw new JwtException("token algorithm " + printable(alg) + " is not accepted for its key, which accepts "
                        + names(named.stream().flatMap(k -> k.algorithms().stream()).collect(Collectors.toSet())));
            }
            List<Key> usable = keys.stream().filter(k -> k.algorithms().contains(alg)).toList();
            if (usable.size() == 1) {
                return usable.get(0);
            }
            if (usable.isEmpty()) {
                throw new JwtException("token algorithm " + printable(alg) + " is not accepted by any of the hub's keys");
            }
            throw new JwtException("token has no key id (kid) and several keys fit its algorithm");
        }

        /** The fetch to wait for before looking an unknown kid up again, or null if rate-limited. */
        private synchronized CompletableFuture<Void> refetch() {
            if (inFlight != null) {
                return inFlight;
            }
            long t = ticker.read();
            if (refetched && t - lastRefetch < minRefetchNanos) {
                return null;
            }
            refetched = true;
            lastRefetch = t;
            return fetch();
        }

        /** See {@link JwtVerifier#afterNextFetch()}. */
        synchronized CompletableFuture<Void> afterNextFetch() {
            return nextFetchDone;
        }

        /**
         * Starts a fetch unless one is in flight; returns the one in flight. The request is sent from
         * the scheduler thread (HttpClient may resolve the host on the sending thread), never the
         * caller's. The returned stage always completes normally, after {@link #keys} is updated.
         */
        synchronized CompletableFuture<Void> fetch() {
            if (inFlight != null) {
                return inFlight;
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            inFlight = done;
            try {
                scheduler.execute(() -> {
                    try {
                        send().whenComplete((k, e) -> fetched(done, k, e));
                    } catch (RuntimeException e) {
                        fetched(done, null, e);
                    }
                });
            } catch (RejectedExecutionException e) {
                fetched(done, null, new IOException("the verifier is closed"));
            }
            return done;
        }

        /** Sends the request; the stage gives the set's usable keys, or fails with the reason. */
        private CompletableFuture<List<Key>> send() {
            HttpRequest request = HttpRequest.newBuilder(url).timeout(FETCH_TIMEOUT)
                    .header("Accept", "application/jwk-set+json, application/json").GET().build();
            java.util.concurrent.atomic.AtomicReference<LimitedBody> body = new java.util.concurrent.atomic.AtomicReference<>();
            CompletableFuture<HttpResponse<byte[]>> exchange = http.sendAsync(request, info -> {
                LimitedBody b = new LimitedBody(MAX_JWKS_BYTES);
                body.set(b);
                return b;
            });
            // the request's own timeout ends at the response headers: a body that trickles in is cut here, and
            // the exchange cancelled (and its body subscription), so that its connection closes rather than lingers
            return exchange.copy().orTimeout(FETCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((response, failure) -> {
                        if (failure != null) {
                            exchange.cancel(true);
                            LimitedBody b = body.get();
                            if (b != null) {
                                b.abort(failure);
                            }
                        }
                    })
                    .thenApply(response -> {
                        if (response.statusCode() != 200) {
                            throw new CompletionException(new IOException("HTTP status " + response.statusCode()));
                        }
                        JWKSet set;
                        try {
                            set = JWKSet.parse(new String(response.body(), UTF_8));
                        } catch (ParseException | RuntimeException e) {
                            throw new CompletionException(new IOException("not a JWK set: " + e.getMessage()));
                        }
                        List<Key> usable = new ArrayList<>();
                        for (JWK jwk : set.getKeys()) {
                            keyOf(jwk, url).ifPresent(usable::add);
                        }
                        if (usable.isEmpty()) {
                            throw new CompletionException(new IOException("no usable signing key in the set"));
                        }
                        return List.copyOf(usable);
                    });
        }

        /** Records a fetch's outcome (new keys, or a warning keeping the old ones), then wakes its waiters. */
        private void fetched(CompletableFuture<Void> done, List<Key> fresh, Throwable failure) {
            if (failure == null) {
                keys = fresh;
                LOG.log(Level.DEBUG, "JWKS {0}: {1} signing keys", url, fresh.size());
            } else {
                Throwable cause = Rejection.cause(failure);
                List<Key> kept = keys;
                LOG.log(Level.WARNING, "JWKS {0}: fetch failed ({1}); {2}", url,
                        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(),
                        kept == null ? "no signing keys yet" : "keeping the " + kept.size() + " previous keys");
            }
            CompletableFuture<Void> waiters;
            synchronized (this) {
                inFlight = null;
                waiters = nextFetchDone;
                nextFetchDone = new CompletableFuture<>();
            }
            done.complete(null);
            waiters.complete(null);
        }
    }

    /** Collects a response body, failing (and cancelling the stream) beyond a limit. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        /** Set once by onSubscribe; read by {@link #abort} on another thread. */
        private volatile Flow.Subscription subscription;

        LimitedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (body.isDone()) {
                s.cancel(); // aborted before the body began
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        /** Gives up on the body (the fetch timed out): cancels the subscription, which closes the connection. */
        void abort(Throwable why) {
            body.completeExceptionally(why);
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (body.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (out.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    body.completeExceptionally(new IOException("the JWK set is larger than " + limit + " bytes"));
                    return;
                }
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.writeBytes(bytes);
            }
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            body.complete(out.toByteArray());
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }
    }
}
