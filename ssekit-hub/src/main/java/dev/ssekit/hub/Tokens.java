package dev.ssekit.hub;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;

/**
 * Mints HS256 tokens: the demo mode prints ready-to-use Mercure 1.0 access tokens ({@link
 * #accessToken}) next to its development key. Stateless and thread-safe.
 */
final class Tokens {

    private Tokens() {
    }

    /**
     * An HS256 token with these claims, signed with Nimbus's {@link MACSigner}.
     *
     * @param claimsJson the payload, a JSON object, used as is
     * @param key the HMAC secret, at least 32 bytes
     * @return the compact JWS
     * @throws IllegalArgumentException if the key is shorter than 32 bytes
     */
    static String hs256(String claimsJson, byte[] key) {
        JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), new Payload(claimsJson));
        try {
            jws.sign(new MACSigner(key));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign an HS256 token: " + e.getMessage(), e);
        }
        return jws.serialize();
    }

    /**
     * A Mercure 1.0 access token (RFC 9068: header {@code typ: at+jwt}; {@code iss}, {@code aud},
     * {@code sub}, {@code client_id}, {@code iat}, {@code exp}, {@code jti}) whose one RFC 9396
     * {@code authorization_details} entry grants {@code action} on every topic ({@code *}), signed
     * HS256 with Nimbus.
     *
     * @param issuer the {@code iss}
     * @param audience the {@code aud}: the hub's resource identifier
     * @param action {@code publish} or {@code subscribe}
     * @param issuedAt the {@code iat}
     * @param lifetime from {@code iat} to {@code exp}
     * @param key the HMAC secret, at least 32 bytes
     * @return the compact JWS
     * @throws IllegalArgumentException if the key is shorter than 32 bytes
     */
    static String accessToken(String issuer, String audience, String action, java.time.Instant issuedAt,
            java.time.Duration lifetime, byte[] key) {
        com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(issuer).audience(audience)
                .subject("ssekit-demo-" + action + "er").claim("client_id", "ssekit-demo")
                .issueTime(java.util.Date.from(issuedAt)).expirationTime(java.util.Date.from(issuedAt.plus(lifetime)))
                .jwtID(java.util.UUID.randomUUID().toString())
                .claim("authorization_details", java.util.List.of(java.util.Map.of("type", AuthorizationDetails.TYPE,
                        "actions", java.util.List.of(action), "topics", java.util.List.of(java.util.Map.of("match", "*")))))
                .build();
        JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt")).build(),
                new Payload(claims.toJSONObject()));
        try {
            jws.sign(new MACSigner(key));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign an HS256 token: " + e.getMessage(), e);
        }
        return jws.serialize();
    }
}
