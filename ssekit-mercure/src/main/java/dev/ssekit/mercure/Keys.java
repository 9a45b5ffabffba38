package dev.ssekit.mercure;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** Reads PEM private keys with the JDK alone (PKCS#8: RSA, EC or Ed25519). */
final class Keys {

    private Keys() {
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
