package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies compact JWS tokens (RFC 7515/7519) for one algorithm: HS256 with a shared secret, or
 * RS256 with an RSA public key. A verifier accepts only its own algorithm, so {@code alg: none}
 * and algorithm confusion (an RS256 public key used as an HS256 secret) are refused. {@code exp}
 * and {@code nbf} are checked against the given time, with a leeway. Immutable and thread-safe.
 */
final class JwtVerifier {

    private static final Base64.Decoder B64 = Base64.getUrlDecoder();

    private final String alg;
    private final byte[] secret;
    private final PublicKey publicKey;
    private final Duration leeway;

    private JwtVerifier(String alg, byte[] secret, PublicKey publicKey, Duration leeway) {
        this.alg = alg;
        this.secret = secret;
        this.publicKey = publicKey;
        this.leeway = leeway;
    }

    /** HS256 with this secret (at least 32 bytes, as RFC 7518 3.2 requires for HS256). */
    static JwtVerifier hs256(byte[] secret, Duration leeway) {
        if (secret.length < 32) {
            throw new IllegalArgumentException("an HS256 key must be at least 32 bytes (256 bits), got " + secret.length);
        }
        return new JwtVerifier("HS256", secret.clone(), null, Objects.requireNonNull(leeway, "leeway"));
    }

    /** RS256 with this RSA public key. */
    static JwtVerifier rs256(PublicKey key, Duration leeway) {
        if (!"RSA".equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("an RS256 key must be an RSA public key, got " + key.getAlgorithm());
        }
        return new JwtVerifier("RS256", null, key, Objects.requireNonNull(leeway, "leeway"));
    }

    String algorithm() {
        return alg;
    }

    /**
     * Verifies the token and returns its Mercure claims.
     *
     * @throws JwtException if it is malformed, not signed with this verifier's algorithm and key,
     *     expired or not yet valid
     */
    java.util.concurrent.CompletionStage<Claims> verify(String token, Instant now) {
        try {
            return java.util.concurrent.CompletableFuture.completedFuture(verifyNow(token, now));
        } catch (JwtException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    Claims verifyNow(String token, Instant now) throws JwtException {
        int dot1 = token.indexOf('.');
        int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
        if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
            throw new JwtException("malformed token: a JWS has three dot-separated parts");
        }
        Map<String, Object> header = json(token.substring(0, dot1), "header");
        Object tokenAlg = header.get("alg");
        if (!alg.equals(tokenAlg)) {
            throw new JwtException("token algorithm " + (tokenAlg instanceof String s ? s : "(none)")
                    + " is not accepted; this hub accepts " + alg);
        }
        byte[] signature;
        try {
            signature = B64.decode(token.substring(dot2 + 1));
        } catch (IllegalArgumentException e) {
            throw new JwtException("malformed token: the signature is not base64url");
        }
        byte[] signed = token.substring(0, dot2).getBytes(UTF_8);
        if (!signatureValid(signed, signature)) {
            throw new JwtException("bad token signature");
        }
        Map<String, Object> payload = json(token.substring(dot1 + 1, dot2), "payload");
        long nowSeconds = now.getEpochSecond();
        long slack = leeway.toSeconds();
        if (payload.get("exp") instanceof Number exp && nowSeconds >= exp.longValue() + slack) {
            throw new JwtException("token expired");
        } else if (payload.containsKey("exp") && !(payload.get("exp") instanceof Number)) {
            throw new JwtException("malformed token: exp is not a number");
        }
        if (payload.get("nbf") instanceof Number nbf && nowSeconds + slack < nbf.longValue()) {
            throw new JwtException("token not valid yet");
        } else if (payload.containsKey("nbf") && !(payload.get("nbf") instanceof Number)) {
            throw new JwtException("malformed token: nbf is not a number");
        }
        return Claims.from(payload);
    }

    private boolean signatureValid(byte[] signed, byte[] signature) throws JwtException {
        try {
            if (secret != null) {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                return MessageDigest.isEqual(mac.doFinal(signed), signature); // constant time
            }
            Signature rsa = Signature.getInstance("SHA256withRSA");
            rsa.initVerify(publicKey);
            rsa.update(signed);
            return rsa.verify(signature);
        } catch (GeneralSecurityException e) {
            throw new JwtException("bad token signature");
        }
    }

    private static Map<String, Object> json(String part, String what) throws JwtException {
        try {
            Map<String, Object> map = JSON.std.mapFrom(new String(B64.decode(part), UTF_8));
            if (map == null) {
                throw new JwtException("malformed token: the " + what + " is not a JSON object");
            }
            return map;
        } catch (IllegalArgumentException e) {
            throw new JwtException("malformed token: the " + what + " is not base64url");
        } catch (IOException | RuntimeException e) {
            throw new JwtException("malformed token: the " + what + " is not a JSON object");
        }
    }
}
