package dev.ssekit.mercure;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.util.Set;

/**
 * Signs JWS with EdDSA over Ed25519 (RFC 8037) on the JDK's own {@code
 * Signature.getInstance("Ed25519")} (JDK 15+). Nimbus's {@code Ed25519Signer} needs Google Tink
 * (with protobuf-java, gson and google-http-client: some 5 MB for one signature the JDK already
 * has), so this module signs as ssekit-hub verifies: with the JDK. Thread-safe: each signature
 * uses a {@link Signature} of its own.
 */
final class Ed25519Signer implements JWSSigner {

    private final PrivateKey key;
    private final JCAContext jca = new JCAContext();

    /**
     * @param key an Ed25519 private key
     * @throws IllegalArgumentException if it is another kind of key (Ed448 among them)
     */
    Ed25519Signer(PrivateKey key) {
        if (!isEd25519(key)) {
            throw new IllegalArgumentException("an Ed25519 private key is required for EdDSA, got a " + key.getAlgorithm() + " key");
        }
        this.key = key;
    }

    /** Whether {@code key} is an Ed25519 private key (not Ed448). */
    static boolean isEd25519(PrivateKey key) {
        return key instanceof EdECPrivateKey ed ? "Ed25519".equalsIgnoreCase(ed.getParams().getName())
                : "Ed25519".equalsIgnoreCase(key.getAlgorithm());
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
    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
        if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) {
            throw new JOSEException("Ed25519Signer signs EdDSA only, not " + header.getAlgorithm());
        }
        try {
            Signature ed = Signature.getInstance("Ed25519");
            ed.initSign(key);
            ed.update(signingInput);
            return Base64URL.encode(ed.sign());
        } catch (GeneralSecurityException e) {
            throw new JOSEException("Ed25519 signing failed: " + e.getMessage(), e);
        }
    }
}
