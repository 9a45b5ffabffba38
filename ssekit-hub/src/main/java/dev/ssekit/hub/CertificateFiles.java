package dev.ssekit.hub;

import dev.ssekit.Scheduler;
import dev.ssekit.netty.NettySseServer;
import io.netty.handler.ssl.SslContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hub's TLS identity from two PEM files, {@code --tls-cert} (the certificate chain, the hub's
 * own certificate first) and {@code --tls-key} (its private key, PKCS#8), reloaded when they
 * change: every {@code poll} interval it compares the files' modification time, size and file key
 * with those it loaded, and on a change loads the pair again. A pair that cannot be loaded (unreadable,
 * not PEM, a key that does not belong to the certificate, for instance while one file has been
 * replaced and the other not yet) keeps the current context and logs a WARNING; it is tried again
 * when the files change again. New connections take {@link #get()}: the newest good context; open
 * connections keep theirs. Thread-safe; {@link #close()} stops the polling.
 */
final class CertificateFiles implements Supplier<SslContext>, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CertificateFiles.class.getName());
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    /** How often the hub looks at the files by default. */
    static final Duration POLL = Duration.ofSeconds(2);

    /** What was loaded: the context, its leaf certificate, and the files' stamp it came from. */
    private record Loaded(SslContext context, X509Certificate certificate, String stamp) {
    }

    private final Path certificateFile;
    private final Path keyFile;
    private final Scheduler scheduler;
    private final Duration poll;
    private volatile Loaded loaded;
    /** The stamp last looked at, good or not: a broken pair is reported once, not every poll. */
    private volatile String seen;
    private volatile boolean closed;
    private volatile Future<?> timer;

    private CertificateFiles(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll, Loaded first) {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.scheduler = scheduler;
        this.poll = poll;
        this.loaded = first;
        this.seen = first.stamp();
    }

    /**
     * Loads the pair and starts watching it.
     *
     * @param certificateFile the PEM certificate chain ({@code --tls-cert})
     * @param keyFile the PEM private key ({@code --tls-key}), PKCS#8 unencrypted
     * @param scheduler runs the polls (each poll's file reading happens on a virtual thread)
     * @param poll how often to look at the files; positive
     * @return the watcher, holding the loaded context
     * @throws IllegalArgumentException naming {@code --tls-cert} or {@code --tls-key} and the file
     *     when the pair cannot be loaded
     */
    static CertificateFiles watch(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll) {
        Objects.requireNonNull(scheduler, "scheduler");
        if (poll.isNegative() || poll.isZero()) {
            throw new IllegalArgumentException("poll must be positive: " + poll);
        }
        CertificateFiles files = new CertificateFiles(certificateFile, keyFile, scheduler, poll, load(certificateFile, keyFile));
        files.arm();
        return files;
    }

    /** The newest good context: what a new connection uses. */
    @Override
    public SslContext get() {
        return loaded.context();
    }

    /** The hub's certificate in the newest good context. */
    X509Certificate certificate() {
        return loaded.certificate();
    }

    /** Stops watching; the current context stays usable. */
    @Override
    public synchronized void close() {
        closed = true;
        Future<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
    }

    /** Schedules the next look, unless closed: synchronized with {@link #close()}, so none is armed after it. */
    private synchronized void arm() {
        if (!closed) {
            // the scheduler's thread must not block: the files are read on a virtual thread
            timer = scheduler.schedule(() -> Thread.ofVirtual().name("ssekit-tls-reload").start(this::poll), poll);
        }
    }

    /** One look at the files; loads them if they changed; then arms the next look. */
    private void poll() {
        try {
            String stamp = stamp(certificateFile, keyFile);
            if (!stamp.equals(seen)) {
                seen = stamp;
                try {
                    Loaded next = load(certificateFile, keyFile);
                    loaded = next;
                    LOG.log(Level.INFO, "TLS certificate reloaded from {0}: {1}, valid until {2}", certificateFile,
                            next.certificate().getSubjectX500Principal().getName(), next.certificate().getNotAfter().toInstant());
                } catch (IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "TLS files changed but cannot be loaded; new connections keep the previous certificate: {0}",
                            e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot look at the TLS files {0} and {1}: {2}", certificateFile, keyFile, e.toString());
        } finally {
            arm();
        }
    }

    /** The files' modification time, size and file key (a replaced file has a new one): a change in either means reload. */
    private static String stamp(Path certificateFile, Path keyFile) throws IOException {
        StringBuilder s = new StringBuilder();
        for (Path p : List.of(certificateFile, keyFile)) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            s.append(a.lastModifiedTime().toMillis()).append('/').append(a.size()).append('/').append(a.fileKey()).append(';');
        }
        return s.toString();
    }

    /** Reads both files (stamped before reading: a change while reading shows at the next poll) and makes a context. */
    private static Loaded load(Path certificateFile, Path keyFile) {
        String stamp;
        try {
            stamp = stamp(certificateFile, keyFile);
        } catch (IOException e) {
            stamp = "unreadable";
        }
        List<X509Certificate> chain = certificates(certificateFile);
        PrivateKey key = privateKey(keyFile);
        try {
            return new Loaded(NettySseServer.tlsContext(key, chain), chain.getFirst(), stamp);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-cert " + certificateFile + " and --tls-key " + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        String text = read("--tls-cert", file);
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            Matcher m = PEM.matcher(text);
            while (m.find()) {
                if (m.group(1).equals("CERTIFICATE")) {
                    chain.add((X509Certificate) x509.generateCertificate(new ByteArrayInputStream(decode(m.group(2)))));
                }
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-cert " + file + ": not a readable PEM certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("--tls-cert " + file + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        }
        return chain;
    }

    private static PrivateKey privateKey(Path file) {
        Matcher m = PEM.matcher(read("--tls-key", file));
        while (m.find()) {
            String type = m.group(1);
            switch (type) {
                case "PRIVATE KEY" -> {
                    byte[] der;
                    try {
                        der = decode(m.group(2));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--tls-key " + file + ": the PEM is not valid base64", e);
                    }
                    for (String algorithm : List.of("EC", "RSA", "Ed25519", "Ed448")) {
                        try {
                            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                        } catch (GeneralSecurityException e) {
                            // the next kind
                        }
                    }
                    throw new IllegalArgumentException("--tls-key " + file + ": a PKCS#8 key that is neither EC, RSA nor EdDSA");
                }
                case "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("--tls-key " + file
                        + ": a \"" + type + "\" key; the hub needs an unencrypted PKCS#8 key (-----BEGIN PRIVATE KEY-----), "
                        + "convert it with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
                default -> {
                    // a certificate or parameters in the same file: look further
                }
            }
        }
        throw new IllegalArgumentException("--tls-key " + file + ": no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
    }

    private static String read(String setting, Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(setting + " " + file + ": cannot read it: " + e, e);
        }
    }

    private static byte[] decode(String base64) {
        return Base64.getMimeDecoder().decode(base64.replaceAll("\\s", ""));
    }
}
