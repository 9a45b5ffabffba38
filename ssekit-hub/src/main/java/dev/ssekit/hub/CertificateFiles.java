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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 *
 * <p>A certificate outside its validity on the given clock (expired, or not valid yet) is refused
 * like a broken pair: at start with an error naming the file and its validity, on reload with a
 * WARNING keeping the served one; a replacement refused only because it is not valid yet is loaded
 * by the first poll after its validity begins, without the files having to change again. The served certificate is warned about once when it comes within
 * {@link #EXPIRY_WARNING} of its end, and once more if it expires while served. A file that cannot be
 * looked at (missing, unreadable) is warned about once per distinct problem, not every poll.
 */
final class CertificateFiles implements Supplier<SslContext>, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CertificateFiles.class.getName());
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    /** How often the hub looks at the files by default. */
    static final Duration POLL = Duration.ofSeconds(2);
    /** How long before its end the served certificate is warned about. */
    static final Duration EXPIRY_WARNING = Duration.ofDays(14);

    /** What was loaded: the context, its leaf certificate, and the files' stamp it came from. */
    private record Loaded(SslContext context, X509Certificate certificate, String stamp) {
    }

    private final Path certificateFile;
    private final Path keyFile;
    private final Scheduler scheduler;
    private final Duration poll;
    private final Clock clock;
    /** Run before each poll (renews a self-signed certificate); null for files someone else provides. */
    private final Runnable renew;
    private volatile Loaded loaded;
    /** The served certificate's state last warned about ("near" or "expired" plus its stamp); only polls touch it. */
    private String expiryWarned;
    /** The problem last reported when the files could not be looked at; only polls touch it. */
    private String problem;
    /** When the refused pair with stamp {@link #seen} becomes valid (it was refused as not valid yet), else null; only polls touch it. */
    private Instant validFrom;
    /** The stamp last looked at, good or not: a broken pair is reported once, not every poll. */
    private volatile String seen;
    private volatile boolean closed;
    private volatile Future<?> timer;

    private CertificateFiles(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll, Clock clock, Runnable renew,
            Loaded first) {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.scheduler = scheduler;
        this.poll = poll;
        this.clock = clock;
        this.renew = renew;
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
     *     when the pair cannot be loaded or the certificate is outside its validity now
     */
    static CertificateFiles watch(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll) {
        return watch(certificateFile, keyFile, scheduler, poll, Clock.systemUTC());
    }

    /**
     * As {@link #watch(Path, Path, Scheduler, Duration)}, with the clock the certificate's validity
     * is checked against.
     */
    static CertificateFiles watch(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll, Clock clock) {
        return start(certificateFile, keyFile, scheduler, poll, clock, null);
    }

    /**
     * {@code --tls self-signed}: the certificate {@link SelfSignedCertificate#ensure} keeps in {@code
     * dir} (made or renewed first), watched like given files; each poll renews it (through the files,
     * so the reload takes it) when it comes within {@link SelfSignedCertificate#RENEW_BEFORE} of its end.
     *
     * @throws IllegalArgumentException if it cannot be made or loaded
     */
    static CertificateFiles selfSigned(Path dir, Scheduler scheduler, Duration poll, Clock clock) {
        List<Path> made = SelfSignedCertificate.ensure(dir, clock);
        return start(made.get(0), made.get(1), scheduler, poll, clock, () -> SelfSignedCertificate.ensure(dir, clock));
    }

    private static CertificateFiles start(Path certificateFile, Path keyFile, Scheduler scheduler, Duration poll, Clock clock,
            Runnable renew) {
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(clock, "clock");
        if (poll.isNegative() || poll.isZero()) {
            throw new IllegalArgumentException("poll must be positive: " + poll);
        }
        CertificateFiles files = new CertificateFiles(certificateFile, keyFile, scheduler, poll, clock, renew,
                load(certificateFile, keyFile, clock));
        files.checkExpiry();
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
            if (renew != null && !clock.instant().isBefore(
                    loaded.certificate().getNotAfter().toInstant().minus(SelfSignedCertificate.RENEW_BEFORE))) {
                try {
                    renew.run(); // new files: this poll's stamp differs, and the reload below takes them
                } catch (IllegalArgumentException e) {
                    report("cannot renew the self-signed certificate: " + e.getMessage());
                }
            }
            String stamp = stamp(certificateFile, keyFile);
            if (problem != null && problem.startsWith("cannot look")) {
                problem = null; // the files are back: a later loss is reported again
            }
            if (!stamp.equals(seen) || validFrom != null && !clock.instant().isBefore(validFrom)) {
                seen = stamp;
                validFrom = null;
                try {
                    Loaded next = load(certificateFile, keyFile, clock);
                    loaded = next;
                    LOG.log(Level.INFO, "TLS certificate reloaded from {0}: {1}, valid until {2}", certificateFile,
                            next.certificate().getSubjectX500Principal().getName(), next.certificate().getNotAfter().toInstant());
                } catch (NotValidYet e) {
                    validFrom = e.from; // tried again at its start, when the files are the same
                    LOG.log(Level.WARNING, "TLS files changed but cannot be loaded; new connections keep the previous certificate "
                            + "until {0}, when it becomes valid: {1}", e.from, e.getMessage());
                } catch (IllegalArgumentException e) {
                    LOG.log(Level.WARNING, "TLS files changed but cannot be loaded; new connections keep the previous certificate: {0}",
                            e.getMessage());
                }
            }
        } catch (IOException e) {
            seen = "unreadable"; // the files coming back, even unchanged, are loaded again
            report("cannot look at the TLS files " + certificateFile + " and " + keyFile + ": " + e
                    + "; new connections keep the previous certificate");
        } catch (RuntimeException e) {
            report("TLS files " + certificateFile + " and " + keyFile + ": " + e);
        } finally {
            try {
                checkExpiry();
            } finally {
                arm();
            }
        }
    }

    /** A WARNING, unless it is the same as the last one (a lasting problem is reported once). */
    private void report(String message) {
        if (!message.equals(problem)) {
            problem = message;
            LOG.log(Level.WARNING, message);
        }
    }

    /** WARNING once when the served certificate comes within {@link #EXPIRY_WARNING} of its end, once more when it ends. */
    private void checkExpiry() {
        Loaded current = loaded;
        Instant now = clock.instant();
        Instant end = current.certificate().getNotAfter().toInstant();
        String state = now.isAfter(end) ? "expired " + current.stamp() : now.isAfter(end.minus(EXPIRY_WARNING)) ? "near " + current.stamp() : null;
        if (state == null || state.equals(expiryWarned)) {
            return;
        }
        expiryWarned = state;
        if (state.startsWith("expired")) {
            LOG.log(Level.WARNING, "the served TLS certificate from {0} has expired at {1}: clients refuse it; replace the files",
                    certificateFile, end);
        } else {
            LOG.log(Level.WARNING, "the served TLS certificate from {0} expires at {1}, in {2} hours: renew it (the hub reloads the files)",
                    certificateFile, end, Duration.between(now, end).toHours());
        }
    }

    /** When the served certificate ends, in seconds since the epoch (the {@code ssekit_tls_certificate_expiry_seconds} gauge). */
    long expiresAtEpochSecond() {
        return loaded.certificate().getNotAfter().toInstant().getEpochSecond();
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
    private static Loaded load(Path certificateFile, Path keyFile, Clock clock) {
        String stamp;
        try {
            stamp = stamp(certificateFile, keyFile);
        } catch (IOException e) {
            stamp = "unreadable";
        }
        List<X509Certificate> chain = certificates(certificateFile);
        X509Certificate leaf = chain.getFirst();
        Instant now = clock.instant();
        Instant from = leaf.getNotBefore().toInstant();
        Instant until = leaf.getNotAfter().toInstant();
        String validity = "valid from " + from + " until " + until + ", now " + now;
        if (now.isAfter(until)) {
            throw new IllegalArgumentException("--tls-cert " + certificateFile + ": the certificate " + leaf.getSubjectX500Principal().getName()
                    + " expired (" + validity + ")");
        }
        if (now.isBefore(from)) {
            throw new NotValidYet("--tls-cert " + certificateFile + ": the certificate " + leaf.getSubjectX500Principal().getName()
                    + " is not valid yet (" + validity + ")", from);
        }
        PrivateKey key = privateKey(keyFile);
        try {
            return new Loaded(NettySseServer.tlsContext(key, chain), chain.getFirst(), stamp);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-cert " + certificateFile + " and --tls-key " + keyFile + ": " + e.getMessage(), e);
        }
    }

    /** A pair refused only because its certificate's validity has not begun: it may be loaded at {@link #from}. */
    private static final class NotValidYet extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        /** When the certificate becomes valid. */
        private final Instant from;

        NotValidYet(String message, Instant from) {
            super(message);
            this.from = from;
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
