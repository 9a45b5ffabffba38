package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.TestCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate validity on a movable wall clock: a pair outside its validity is refused at start
 * and on reload, a certificate near its end is warned about (once) and its end is a metric, and a
 * missing file is warned about once per distinct problem, not every poll.
 *
 * <p>No test sleeps: the polls run on a {@link ManualScheduler}; {@link #polls(int)} moves it one
 * poll interval at a time and waits (at most 10 s each) until that poll has armed the next one,
 * which it does last, so "once over N polls" is asserted after exactly N completed polls.
 */
@Timeout(60)
class CertificateValidityTest {

    @TempDir
    static Path certificates;
    /** Valid for 2 days from the moment the tests start. */
    static TestCertificate shortLived;
    /** Valid for 400 days from the moment the tests start. */
    static TestCertificate longLived;

    @TempDir
    Path dir;
    private Path certFile;
    private Path keyFile;
    private final MovableClock clock = new MovableClock(Instant.now());
    /** Runs the polls: time moves only in {@link #polls(int)}. */
    private final ManualScheduler scheduler = new ManualScheduler();
    private final List<CertificateFiles> watching = new ArrayList<>();
    /** The log records (kept here: a JUL logger without a strong reference may be collected). */
    private final Logger log = Logger.getLogger(CertificateFiles.class.getName());
    private final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** A wall clock the test moves. */
    static final class MovableClock extends Clock {
        private final AtomicReference<Instant> now;

        MovableClock(Instant start) {
            now = new AtomicReference<>(start);
        }

        void set(Instant t) {
            now.set(t);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

    @BeforeAll
    static void certificates() throws Exception {
        shortLived = TestCertificate.create(certificates, "short");
        longLived = openssl(certificates, "long", 400);
    }

    /** As TestCertificate.create, with the validity in days. */
    static TestCertificate openssl(Path dir, String name, int days) throws IOException, InterruptedException {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key.toString(), "-out", crt.toString(), "-days", Integer.toString(days), "-subj", "/CN=ssekit test " + name)
                .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("openssl took more than 30 s");
        }
        assertThat(p.exitValue()).as("openssl: %s", Files.readString(dir.resolve(name + ".log"), StandardCharsets.UTF_8)).isZero();
        return new TestCertificate(crt, key, TestCertificate.read(crt));
    }

    @BeforeEach
    void files() throws Exception {
        certFile = dir.resolve("hub.crt");
        keyFile = dir.resolve("hub.key");
        log.addHandler(capture);
    }

    @AfterEach
    void stop() {
        log.removeHandler(capture);
        watching.forEach(CertificateFiles::close);
    }

    private void use(TestCertificate c) throws IOException {
        for (Path[] p : new Path[][] {{c.certificate(), certFile}, {c.key(), keyFile}}) {
            Path tmp = dir.resolve(p[1].getFileName() + ".new");
            Files.copy(p[0], tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, p[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private CertificateFiles watch() throws InterruptedException {
        CertificateFiles files = CertificateFiles.watch(certFile, keyFile, scheduler, POLL, clock);
        watching.add(files);
        assertThat(scheduler.nextDelay()).as("the first poll is armed").isEqualTo(POLL);
        assertThat(scheduler.pending()).hasSize(1);
        return files;
    }

    /** The poll interval given to the watcher (time on the manual scheduler, not waited for). */
    private static final Duration POLL = Duration.ofSeconds(2);

    /**
     * Runs exactly {@code n} polls, one after the other: moves the scheduler by one interval (the
     * poll starts on a virtual thread) and waits until that poll armed the next, its last step.
     */
    private void polls(int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            assertThat(scheduler.pending()).as("poll %d is armed", i + 1).containsExactly(POLL);
            scheduler.advance(POLL);
            assertThat(scheduler.nextDelay()).as("poll %d completed and armed the next", i + 1).isEqualTo(POLL);
        }
    }

    private List<String> messages(Level level) {
        synchronized (records) {
            return records.stream().filter(r -> r.getLevel().equals(level)).map(r -> new SimpleFormatter().formatMessage(r)).toList();
        }
    }

    @Test
    void anExpiredOrNotYetValidPairIsRefusedAtStartNamingTheFileAndItsValidity() throws Exception {
        use(shortLived);
        Instant notAfter = shortLived.x509().getNotAfter().toInstant();
        Instant notBefore = shortLived.x509().getNotBefore().toInstant();
        clock.set(notAfter.plus(Duration.ofDays(1)));
        assertThatThrownBy(this::watch).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tls-cert " + certFile + ": ").hasMessageContaining("expired")
                .hasMessageContaining(notAfter.toString()).hasMessageContaining(notBefore.toString());
        clock.set(notBefore.minus(Duration.ofDays(1)));
        assertThatThrownBy(this::watch).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tls-cert " + certFile + ": ").hasMessageContaining("not valid yet")
                .hasMessageContaining(notBefore.toString());
    }

    /** A hub process given a certificate that ended 370 days ago (made by keytool with a start date in the past). */
    @Test
    void aHubStartedWithAnExpiredCertificateExitsWithTheFileAndItsValidity() throws Exception {
        Path store = dir.resolve("old.p12");
        run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "old", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=expired", "-startdate", "-400d", "-validity", "30", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", "test-only", "-keypass", "test-only");
        Path pem = dir.resolve("old.crt");
        Path key = dir.resolve("old.key");
        run("openssl", "pkcs12", "-in", store.toString(), "-clcerts", "-nokeys", "-passin", "pass:test-only", "-out", pem.toString());
        run("openssl", "pkcs12", "-in", store.toString(), "-nocerts", "-nodes", "-passin", "pass:test-only", "-out", key.toString());
        X509Certificate expired = TestCertificate.read(pem);
        Path out = dir.resolve("hub.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain", "--listen", "127.0.0.1:0",
                "--data", dir.resolve("data").toString(), "--tls-cert", pem.toString(), "--tls-key", key.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the hub exits").isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(out)).contains("error: --tls-cert " + pem + ": the certificate CN=expired expired")
                .contains("until " + expired.getNotAfter().toInstant());
    }

    /** A pair made by keytool with a start date relative to now ({@code -400d}, {@code +1d}), as PEM files in {@code dir}. */
    static TestCertificate keytoolPair(Path dir, String name, String startDate, int validityDays) throws Exception {
        Path store = dir.resolve(name + ".p12");
        run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", name, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=" + name, "-startdate", startDate, "-validity", Integer.toString(validityDays),
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "test-only", "-keypass", "test-only");
        Path pem = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        run("openssl", "pkcs12", "-in", store.toString(), "-clcerts", "-nokeys", "-passin", "pass:test-only", "-out", pem.toString());
        run("openssl", "pkcs12", "-in", store.toString(), "-nocerts", "-nodes", "-passin", "pass:test-only", "-out", key.toString());
        return new TestCertificate(pem, key, TestCertificate.read(pem));
    }

    /**
     * A replacement whose validity begins later than the hub's clock (a CA's clock ahead of the
     * hub's, or a certificate issued to start at midnight) is refused while it is not valid yet, and
     * loaded by the first poll once its validity has begun, without the files changing again.
     */
    @Test
    void aReplacementNotValidYetIsLoadedOnceItsValidityBegins() throws Exception {
        TestCertificate future = keytoolPair(dir, "future", "+1d", 30);
        Instant from = future.x509().getNotBefore().toInstant();
        use(longLived);
        CertificateFiles files = watch();
        use(future);
        polls(1);
        assertThat(messages(Level.WARNING)).hasSize(1);
        assertThat(messages(Level.WARNING).getFirst()).contains("keep the previous certificate").contains("not valid yet");
        assertThat(files.certificate()).isEqualTo(longLived.x509());
        polls(3);
        assertThat(messages(Level.WARNING)).as("said once").hasSize(1);
        assertThat(files.certificate()).isEqualTo(longLived.x509());

        clock.set(from.plusSeconds(1)); // its validity has begun; the files did not change
        polls(1);
        assertThat(files.certificate()).as("loaded at the first poll within its validity").isEqualTo(future.x509());
        assertThat(messages(Level.INFO)).filteredOn(m -> m.contains("reloaded")).hasSize(1);
        polls(3);
        assertThat(messages(Level.INFO)).as("loaded once").filteredOn(m -> m.contains("reloaded")).hasSize(1);
        assertThat(messages(Level.WARNING)).hasSize(1);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done && p.exitValue() == 0).as("%s: %s", command[0], output).isTrue();
    }

    @Test
    void anExpiredReplacementIsRefusedOnReloadAndTheServedOneKept() throws Exception {
        use(longLived);
        clock.set(shortLived.x509().getNotAfter().toInstant().plus(Duration.ofDays(1)));
        CertificateFiles files = watch();
        use(shortLived);
        polls(1);
        assertThat(messages(Level.WARNING)).hasSize(1);
        assertThat(messages(Level.WARNING).getFirst()).contains("keep the previous certificate").contains("--tls-cert " + certFile)
                .contains("expired");
        assertThat(files.certificate()).isEqualTo(longLived.x509());
        polls(5); // refused once: not tried, nor warned about, again until the files change
        assertThat(messages(Level.WARNING)).hasSize(1);
        assertThat(files.certificate()).isEqualTo(longLived.x509());
        assertThat(messages(Level.INFO)).noneMatch(m -> m.contains("reloaded"));
    }

    @Test
    void aCertificateNearItsEndIsWarnedAboutOnceAndItsEndIsAMetric() throws Exception {
        use(longLived);
        Instant notAfter = longLived.x509().getNotAfter().toInstant();
        CertificateFiles files = watch();
        polls(5);
        assertThat(messages(Level.WARNING)).as("far from its end").isEmpty();
        assertThat(Metrics.tls(java.util.Optional.of(files)))
                .contains("# TYPE ssekit_tls_certificate_expiry_seconds gauge\n")
                .contains("ssekit_tls_certificate_expiry_seconds " + notAfter.getEpochSecond() + "\n");
        assertThat(Metrics.tls(java.util.Optional.empty())).isEmpty();

        clock.set(notAfter.minus(Duration.ofDays(10)));
        polls(1);
        assertThat(messages(Level.WARNING)).as("warned at the first poll within 14 days").hasSize(1);
        polls(10);
        assertThat(messages(Level.WARNING)).as("and not again over ten more polls").hasSize(1);
        assertThat(messages(Level.WARNING).getFirst()).contains(certFile.toString()).contains("expires at " + notAfter)
                .contains("renew it");

        clock.set(notAfter.plusSeconds(60)); // still served, now expired: said once more
        polls(1);
        assertThat(messages(Level.WARNING)).hasSize(2);
        polls(10);
        assertThat(messages(Level.WARNING)).hasSize(2);
        assertThat(messages(Level.WARNING).get(1)).contains("has expired");
    }

    @Test
    void aMissingFileIsWarnedAboutOncePerDistinctProblem() throws Exception {
        use(longLived);
        CertificateFiles files = watch();
        Files.delete(keyFile);
        polls(1);
        assertThat(messages(Level.WARNING)).as("warned at the first poll").hasSize(1);
        polls(20);
        assertThat(messages(Level.WARNING)).as("one warning for the missing key over 21 polls").hasSize(1);
        assertThat(messages(Level.WARNING).getFirst()).contains(keyFile.toString()).contains("NoSuchFileException");

        Files.delete(certFile); // another problem: the certificate is missing too
        polls(1);
        assertThat(messages(Level.WARNING)).hasSize(2);
        polls(20);
        assertThat(messages(Level.WARNING)).hasSize(2);
        assertThat(messages(Level.WARNING).get(1)).contains(certFile.toString());

        use(shortLived); // back: loaded, and a later loss is reported again
        polls(1);
        assertThat(messages(Level.INFO)).filteredOn(m -> m.contains("reloaded")).hasSize(1);
        assertThat(files.certificate()).isEqualTo(shortLived.x509());
        assertThat(messages(Level.WARNING)).as("the short-lived one is near its end: one warning for that").hasSize(3);
        assertThat(messages(Level.WARNING).get(2)).contains("expires at " + shortLived.x509().getNotAfter().toInstant());
        Files.delete(keyFile);
        polls(1);
        assertThat(messages(Level.WARNING)).hasSize(4);
        assertThat(messages(Level.WARNING).get(3)).contains(keyFile.toString()).contains("NoSuchFileException");
        polls(20);
        assertThat(messages(Level.WARNING)).hasSize(4);
    }
}
