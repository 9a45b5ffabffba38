package dev.ssekit.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed test certificate made with {@code openssl} at test time: EC P-256, valid for two
 * days, subject alternative names {@code IP:127.0.0.1} and {@code DNS:localhost}, written as PEM
 * ({@code NAME.crt}, and the key as PKCS#8 {@code NAME.key}) into a directory, usually a
 * {@code @TempDir}.
 *
 * @param certificate the PEM certificate file
 * @param key the PEM private key file (PKCS#8, unencrypted)
 * @param x509 the certificate, parsed
 */
public record TestCertificate(Path certificate, Path key, X509Certificate x509) {

    /**
     * Runs {@code openssl req -x509} (at most 30 s) to make a new key and certificate.
     *
     * @param dir where to write the files
     * @param name the files' base name: {@code NAME.crt} and {@code NAME.key}
     * @return the new certificate
     * @throws IOException if openssl cannot run, fails or takes too long
     */
    public static TestCertificate create(Path dir, String name) throws IOException {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Path log = dir.resolve(name + ".openssl.log");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key.toString(), "-out", crt.toString(), "-days", "2", "-subj", "/CN=ssekit test " + name,
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("openssl took more than 30 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while openssl ran", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("openssl failed (exit " + p.exitValue() + "): " + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new TestCertificate(crt, key, read(crt));
    }

    /**
     * An SSL context for clients that trusts this certificate only.
     *
     * @return a new TLS context
     * @throws IllegalStateException if the JDK cannot make it
     */
    public SSLContext clientContext() {
        return trusting(x509);
    }

    /**
     * An SSL context for clients that trusts these certificates only.
     *
     * @param certificates the trusted (self-signed) certificates
     * @return a new TLS context
     * @throws IllegalStateException if the JDK cannot make it
     */
    public static SSLContext trusting(X509Certificate... certificates) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < certificates.length; i++) {
                trust.setCertificateEntry("trusted-" + i, certificates[i]);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a client TLS context", e);
        }
    }

    /**
     * The private key, read from {@link #key()}.
     *
     * @return the EC private key
     * @throws IOException if it cannot be read or parsed
     */
    public java.security.PrivateKey privateKey() throws IOException {
        String pem = Files.readString(key, StandardCharsets.US_ASCII)
                .replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        try {
            return java.security.KeyFactory.getInstance("EC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(pem)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("cannot parse the PKCS#8 key in " + key + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a PEM certificate file (its first certificate).
     *
     * @param pem the file
     * @return the certificate
     * @throws IOException if it cannot be read or parsed
     */
    public static X509Certificate read(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<? extends java.security.cert.Certificate> all = List.copyOf(
                    CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (all.isEmpty()) {
                throw new IOException("no certificate in " + pem);
            }
            return (X509Certificate) all.getFirst();
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("cannot parse " + pem + ": " + e.getMessage(), e);
        }
    }
}
