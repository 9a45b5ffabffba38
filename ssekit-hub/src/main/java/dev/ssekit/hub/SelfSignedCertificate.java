package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code --tls self-signed}: a certificate for {@code localhost} and {@code 127.0.0.1} (EC P-256,
 * one year), made by the JDK's own {@code keytool} and kept as PEM files in a directory, so that a
 * browser's exception for it survives restarts; made again when it is missing, unreadable, or
 * within {@link #RENEW_BEFORE} of its end (or not valid yet) on the given clock. For demos and
 * development: browsers warn about it, and the printed SHA-256 fingerprint is how a user checks it.
 *
 * <p>What protects the private key: the directory is made (or narrowed to) {@code rwx------}
 * before anything is written in it; keytool writes its PKCS#12 store into a further {@code
 * rwx------} directory inside it, with a random password handed over in keytool's environment
 * (never on its command line, which other users can read); the PEM key is created {@code
 * rw-------} (the permission is given at creation, not set afterwards) and moved into place. On a
 * file system without POSIX permissions the files get the platform's defaults.
 *
 * <p>Two hubs on one directory (a restart overlapping the old process): {@link #ensure} holds an
 * exclusive lock on the file {@code .lock} in the directory (and, within one JVM, a lock of its own)
 * from its check to its last move, so one makes a new pair and the other then finds it good; a pair
 * whose key does not belong to its certificate is made again. Thread-safe.
 */
final class SelfSignedCertificate {

    static final String CERTIFICATE = "self-signed-cert.pem";
    static final String KEY = "self-signed-key.pem";
    /** The file locked while a pair is checked and made: two hubs on one directory take turns. */
    static final String LOCK = ".lock";
    /** File locks belong to the JVM: threads of one JVM take turns here first. */
    private static final Object IN_JVM = new Object();
    /** How long before its end the certificate is made again. */
    static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final int VALIDITY_DAYS = 365;
    private static final System.Logger LOG = System.getLogger(SelfSignedCertificate.class.getName());
    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");

    private SelfSignedCertificate() {
    }

    /**
     * The certificate and key files in {@code dir}, made first when they are not there, cannot be
     * read, or the certificate is not valid now or ends within {@link #RENEW_BEFORE}.
     *
     * @param dir the directory; made private ({@code rwx------}) first
     * @param clock the time the certificate's validity is checked against (and made from)
     * @return the certificate file and the key file
     * @throws IllegalArgumentException if they cannot be made (the message says why)
     */
    static List<Path> ensure(Path dir, Clock clock) {
        try {
            boolean posix = privateDirectory(dir);
            Set<java.nio.file.OpenOption> open = Set.of(java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            synchronized (IN_JVM) {
                try (java.nio.channels.FileChannel lock = posix
                        ? java.nio.channels.FileChannel.open(dir.resolve(LOCK), open, PosixFilePermissions.asFileAttribute(PRIVATE_FILE))
                        : java.nio.channels.FileChannel.open(dir.resolve(LOCK), open)) {
                    java.nio.channels.FileLock held = lock.lock(); // released when the channel closes
                    try {
                        return ensureLocked(dir, clock, posix);
                    } finally {
                        held.release();
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("--tls self-signed: cannot make a certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@link #ensure} while holding the directory's lock. */
    private static List<Path> ensureLocked(Path dir, Clock clock, boolean posix) {
        Path cert = dir.resolve(CERTIFICATE);
        Path key = dir.resolve(KEY);
        try {
            if (Files.isRegularFile(cert) && Files.isRegularFile(key)) {
                String why = renewal(cert, key, clock.instant());
                if (why == null) {
                    if (posix) {
                        narrow(key);
                    }
                    return List.of(cert, key);
                }
                LOG.log(System.Logger.Level.INFO, "--tls self-signed: making a new certificate in {0}: {1}", dir, why);
            }
            Path work = posix ? Files.createTempDirectory(dir, "keytool", PosixFilePermissions.asFileAttribute(PRIVATE_DIR))
                    : Files.createTempDirectory(dir, "keytool");
            Path store = work.resolve("self-signed.p12");
            try {
                String password = password();
                keytool(store, password, clock.instant());
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(store)) {
                    ks.load(in, password.toCharArray());
                }
                PrivateKey privateKey = (PrivateKey) ks.getKey("hub", password.toCharArray());
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate c : ks.getCertificateChain("hub")) {
                    chain.add((X509Certificate) c);
                }
                Path keyTmp = posix ? Files.createTempFile(dir, "key", ".pem", PosixFilePermissions.asFileAttribute(PRIVATE_FILE))
                        : Files.createTempFile(dir, "key", ".pem");
                Files.writeString(keyTmp, pem("PRIVATE KEY", privateKey.getEncoded()), US_ASCII);
                StringBuilder certs = new StringBuilder();
                for (X509Certificate c : chain) {
                    certs.append(pem("CERTIFICATE", c.getEncoded()));
                }
                Path certTmp = Files.createTempFile(dir, "cert", ".pem");
                Files.writeString(certTmp, certs, US_ASCII);
                Files.move(keyTmp, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Files.move(certTmp, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(store);
                Files.deleteIfExists(work);
            }
            return List.of(cert, key);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls self-signed: cannot make a certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Why the pair must be made again, or null if the certificate is good for longer than {@link
     * #RENEW_BEFORE} and the key belongs to it.
     */
    private static String renewal(Path cert, Path key, Instant now) {
        X509Certificate c;
        try (InputStream in = Files.newInputStream(cert)) {
            c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | GeneralSecurityException | ClassCastException e) {
            return "the certificate in " + cert + " cannot be read (" + e + ")";
        }
        Instant from = c.getNotBefore().toInstant();
        Instant until = c.getNotAfter().toInstant();
        if (now.isBefore(from)) {
            return "the certificate is not valid before " + from;
        }
        if (!now.isBefore(until.minus(RENEW_BEFORE))) {
            return "the certificate ends at " + until;
        }
        try {
            String text = Files.readString(key, US_ASCII);
            int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
            int end = text.indexOf("-----END PRIVATE KEY-----");
            if (begin < 0 || end < begin) {
                return "the key in " + key + " is not a PEM private key";
            }
            byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
            PrivateKey k = java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
            byte[] probe = "ssekit self-signed pair check".getBytes(US_ASCII);
            java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
            sign.initSign(k);
            sign.update(probe);
            byte[] signature = sign.sign();
            java.security.Signature verify = java.security.Signature.getInstance("SHA256withECDSA");
            verify.initVerify(c.getPublicKey());
            verify.update(probe);
            if (!verify.verify(signature)) {
                return "the key in " + key + " does not belong to the certificate";
            }
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            return "the key in " + key + " cannot be used with the certificate (" + e + ")";
        }
        return null;
    }

    /**
     * Makes {@code dir} (and missing parents) with {@code rwx------} from the start, or narrows an
     * existing one to it, before anything is written in it.
     *
     * @return whether the file system has POSIX permissions
     */
    private static boolean privateDirectory(Path dir) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (!posix) {
            Files.createDirectories(dir);
            return false;
        }
        if (!Files.isDirectory(dir)) {
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made meanwhile: narrowed below
            }
        }
        if (!Files.getPosixFilePermissions(dir).equals(PRIVATE_DIR)) {
            // an existing directory (an older hub's, or made by hand): private before the key goes in
            Files.setPosixFilePermissions(dir, PRIVATE_DIR);
        }
        return true;
    }

    /** An existing key readable by others (an older hub's) is narrowed to {@code rw-------}. */
    private static void narrow(Path key) throws IOException {
        if (!Files.getPosixFilePermissions(key).equals(PRIVATE_FILE)) {
            Files.setPosixFilePermissions(key, PRIVATE_FILE);
        }
    }

    /** A random keystore password, for keytool's one run. */
    private static String password() {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
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

    /** Runs keytool; the password goes in its environment; the validity starts a minute before {@code now}. */
    private static void keytool(Path store, String password, Instant now) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        // keytool takes the start relative to its own clock: the offset of ours, less a minute for skew
        long offset = Duration.between(Instant.now(), now).toSeconds() - 60;
        ProcessBuilder b = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "hub", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1,ip:0:0:0:0:0:0:0:1",
                "-startdate", (offset < 0 ? "-" : "+") + Math.abs(offset) + "S", "-validity", Integer.toString(VALIDITY_DAYS),
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass:env", "SSEKIT_KEYSTORE_PASSWORD",
                "-keypass:env", "SSEKIT_KEYSTORE_PASSWORD").redirectErrorStream(true);
        b.environment().put("SSEKIT_KEYSTORE_PASSWORD", password);
        Process p = b.start();
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
