package dev.ssekit.hub;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;

/** Mints HS256 tokens: the demo mode prints ready-to-use ones next to its development key. */
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
}
