package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code --tls self-signed}: a certificate for {@code localhost} and {@code 127.0.0.1} (EC P-256,
 * one year), made once by the JDK's own {@code keytool} and kept as PEM files in a directory, so
 * that a browser's exception for it survives restarts. For demos and development: browsers warn
 * about it, and the printed SHA-256 fingerprint is how a user checks it. Not thread-safe (called
 * once at start).
 */
final class SelfSignedCertificate {

    static final String CERTIFICATE = "self-signed-cert.pem";
    static final String KEY = "self-signed-key.pem";
    private static final String PASSWORD = "ssekit-self-signed";

    private SelfSignedCertificate() {
    }

    /**
     * The certificate and key files in {@code dir}, made first when they are not there.
     *
     * @return the certificate file and the key file
     * @throws IllegalArgumentException if they cannot be made (the message says why)
     */
    static List<Path> ensure(Path dir) {
        Path cert = dir.resolve(CERTIFICATE);
        Path key = dir.resolve(KEY);
        if (Files.isRegularFile(cert) && Files.isRegularFile(key)) {
            return List.of(cert, key);
        }
        try {
            Files.createDirectories(dir);
            Path store = Files.createTempFile(dir, "self-signed", ".p12");
            try {
                Files.delete(store); // keytool makes it
                keytool(store);
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(store)) {
                    ks.load(in, PASSWORD.toCharArray());
                }
                PrivateKey privateKey = (PrivateKey) ks.getKey("hub", PASSWORD.toCharArray());
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate c : ks.getCertificateChain("hub")) {
                    chain.add((X509Certificate) c);
                }
                Path keyTmp = Files.createTempFile(dir, "key", ".pem",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(keyTmp, pem("PRIVATE KEY", privateKey.getEncoded()), US_ASCII);
                StringBuilder certs = new StringBuilder();
                for (X509Certificate c : chain) {
                    certs.append(pem("CERTIFICATE", c.getEncoded()));
                }
                Path certTmp = Files.createTempFile(dir, "cert", ".pem");
                Files.writeString(certTmp, certs, US_ASCII);
                Files.move(keyTmp, key, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Files.move(certTmp, cert, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(store);
            }
            return List.of(cert, key);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls self-signed: cannot make a certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The SHA-256 fingerprint of a certificate, as browsers show it ({@code AB:CD:…}). */
    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static void keytool(Path store) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "hub", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1,ip:0:0:0:0:0:0:0:1", "-validity", "365",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
                .redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(keytool + " did not finish within 60 s");
            }
            String out = new String(p.getInputStream().readAllBytes(), US_ASCII).strip();
            if (p.exitValue() != 0) {
                throw new IOException(keytool + " failed (" + p.exitValue() + "): " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while " + keytool + " ran", e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
