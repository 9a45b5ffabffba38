package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * A test signing key for one JWS algorithm: an HMAC secret (64 random bytes) or a key pair from
 * {@link KeyPairGenerator} (RSA 2048, EC P-256/P-384, Ed25519). Mints tokens, and gives the key as
 * PEM or as a public JWK.
 */
record TestKey(JWSAlgorithm alg, byte[] secret, KeyPair pair) {

    static final List<JWSAlgorithm> ALL = List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512,
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384,
            JWSAlgorithm.EdDSA);

    /** A fresh key for this algorithm. */
    static TestKey generate(JWSAlgorithm alg) {
        try {
            String name = alg.getName();
            if (name.startsWith("HS")) {
                byte[] secret = new byte[64];
                new SecureRandom().nextBytes(secret);
                return new TestKey(alg, secret, null);
            }
            KeyPairGenerator gen;
            if (name.startsWith("RS")) {
                gen = KeyPairGenerator.getInstance("RSA");
                gen.initialize(2048);
            } else if (name.equals("ES256") || name.equals("ES384")) {
                gen = KeyPairGenerator.getInstance("EC");
                gen.initialize(new ECGenParameterSpec(name.equals("ES256") ? "secp256r1" : "secp384r1"));
            } else if (name.equals("EdDSA")) {
                gen = KeyPairGenerator.getInstance("Ed25519");
            } else {
                throw new IllegalArgumentException(name);
            }
            return new TestKey(alg, null, gen.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** The same key pair for another algorithm of its family (RS256 to RS384, ...). */
    TestKey as(JWSAlgorithm other) {
        return new TestKey(other, secret, pair);
    }

    /** A token with this payload and no kid. */
    String sign(String payloadJson) {
        return sign(null, payloadJson);
    }

    /** A token with this kid (when not null) and payload. */
    String sign(String kid, String payloadJson) {
        JWSObject jws = new JWSObject(new JWSHeader.Builder(alg).keyID(kid).build(), new Payload(payloadJson));
        try {
            jws.sign(signer());
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
        return jws.serialize();
    }

    private JWSSigner signer() throws JOSEException {
        String name = alg.getName();
        if (name.startsWith("HS")) {
            return new MACSigner(secret);
        } else if (name.startsWith("RS")) {
            return new RSASSASigner(pair.getPrivate());
        } else if (name.startsWith("ES")) {
            return new ECDSASigner((ECPrivateKey) pair.getPrivate());
        }
        return new JWSSigner() { // EdDSA on the JDK, as the verifier does
            @Override
            public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
                try {
                    Signature ed = Signature.getInstance("Ed25519");
                    ed.initSign(pair.getPrivate());
                    ed.update(signingInput);
                    return Base64URL.encode(ed.sign());
                } catch (GeneralSecurityException e) {
                    throw new JOSEException(e.getMessage(), e);
                }
            }

            @Override
            public Set<JWSAlgorithm> supportedJWSAlgorithms() {
                return Set.of(JWSAlgorithm.EdDSA);
            }

            @Override
            public JCAContext getJCAContext() {
                return new JCAContext();
            }
        };
    }

    /** The public key as PEM ({@code -----BEGIN PUBLIC KEY-----}). */
    String pem() {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(UTF_8)).encodeToString(pair.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /** A verifier for this key: its secret, or its public key as PEM. */
    JwtVerifier verifier() {
        return secret != null ? JwtVerifier.secret(secret) : JwtVerifier.publicKey(pem());
    }

    /** The public key as a JWK with this kid (and no alg member). */
    JWK jwk(String kid) {
        if (pair.getPublic() instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).keyID(kid).build();
        }
        if (pair.getPublic() instanceof ECPublicKey ec) {
            return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).keyID(kid).build();
        }
        byte[] spki = pair.getPublic().getEncoded();
        return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length)))
                .keyID(kid).build();
    }
}
