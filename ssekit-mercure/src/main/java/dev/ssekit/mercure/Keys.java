package dev.ssekit.mercure;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Objects;

/**
 * Loads signing keys: the one path {@link TokenMinter.Builder} and {@link MercureClient.Builder} take
 * a key by (an HMAC secret, or a PEM private key read with the JDK alone: PKCS#8 RSA, EC or Ed25519).
 */
final class Keys {

    private Keys() {
    }

    /**
     * A signing key: exactly one of an HMAC secret and a private key. Immutable (the secret is a copy,
     * never handed out but to a signer).
     *
     * @param secret the HMAC secret's bytes, or null
     * @param privateKey the private key, or null
     */
    record SigningKey(byte[] secret, PrivateKey privateKey) {

        SigningKey {
            if ((secret == null) == (privateKey == null)) {
                throw new IllegalArgumentException("a signing key is either a secret or a private key");
            }
        }

        /** An HMAC secret (copied). */
        static SigningKey ofSecret(byte[] secret) {
            return new SigningKey(Objects.requireNonNull(secret, "secret").clone(), null);
        }

        /** A private key. */
        static SigningKey ofPrivateKey(PrivateKey key) {
            return new SigningKey(null, Objects.requireNonNull(key, "key"));
        }
    }

    /**
     * A key as the hub's {@code --publisher-jwt-key} takes it: PEM text ({@code -----BEGIN...}) is a
     * private key ({@link #privateKey}), anything else an HMAC secret (its UTF-8 bytes).
     *
     * @param setting the setting's name, for the message
     * @param text the secret or PEM text
     * @return the key
     * @throws IllegalArgumentException naming the setting when the text starts as PEM but is no
     *     PKCS#8 RSA, EC or Ed25519 private key
     */
    static SigningKey signingKey(String setting, String text) {
        Objects.requireNonNull(text, setting);
        if (text.strip().startsWith("-----BEGIN")) {
            return SigningKey.ofPrivateKey(privateKey(setting, text));
        }
        return SigningKey.ofSecret(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * Reads a {@code -----BEGIN PRIVATE KEY-----} block.
     *
     * @param setting the setting's name, for the message
     * @param pem the PEM text
     * @return the key
     * @throws IllegalArgumentException naming the setting when the text is no PKCS#8 RSA, EC or
     *     Ed25519 key
     */
    static PrivateKey privateKey(String setting, String pem) {
        String text = pem.strip();
        if (!text.startsWith("-----BEGIN PRIVATE KEY-----")) {
            String first = text.lines().findFirst().orElse("");
            throw new IllegalArgumentException(setting + " must be a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----),"
                    + " got " + first + " (convert with: openssl pkcs8 -topk8 -nocrypt)");
        }
        String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " is not valid PEM: " + e.getMessage(), e);
        }
        for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next type
            }
        }
        throw new IllegalArgumentException(setting + " holds a PKCS#8 key that is neither RSA, EC nor Ed25519");
    }
}
