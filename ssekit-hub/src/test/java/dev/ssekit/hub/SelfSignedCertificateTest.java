package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.TestCertificate;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls self-signed}'s files: the private key is never readable by others, not even while
 * keytool runs, and the certificate is made again before it ends (on a movable clock).
 */
@Timeout(90)
class SelfSignedCertificateTest {

    @TempDir
    Path data;

    @Test
    void theKeyIsNeverReadableByOthersNotEvenWhileKeytoolRuns() throws Exception {
        Path tls = data.resolve("tls");
        Files.createDirectory(tls, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"))); // an older hub's
        List<String> seen = new CopyOnWriteArrayList<>();
        List<String> exposed = new CopyOnWriteArrayList<>();
        CountDownLatch certificateMoved = new CountDownLatch(1); // the last entry ensure makes: every earlier event came before it
        WatchService watcher = FileSystems.getDefault().newWatchService();
        try {
            tls.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            Thread watching = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        WatchKey key = watcher.poll(20, TimeUnit.SECONDS);
                        if (key == null) {
                            return;
                        }
                        for (WatchEvent<?> e : key.pollEvents()) {
                            if (!(e.context() instanceof Path name)) {
                                continue;
                            }
                            String dirMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(tls));
                            Path file = tls.resolve(name);
                            String mode;
                            try {
                                mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
                            } catch (NoSuchFileException gone) {
                                mode = "gone";
                            }
                            seen.add(name + " " + mode + " in " + dirMode);
                            if (name.toString().equals(SelfSignedCertificate.CERTIFICATE)) {
                                certificateMoved.countDown();
                            }
                            if (!dirMode.equals("rwx------")) {
                                exposed.add(name + " appeared while the directory was " + dirMode);
                            }
                            boolean certificate = name.toString().startsWith("cert") || name.toString().equals(SelfSignedCertificate.CERTIFICATE);
                            if (!certificate && !mode.equals("gone") && !mode.endsWith("------")) {
                                exposed.add(name + " was " + mode);
                            }
                        }
                        key.reset();
                    }
                } catch (InterruptedException | ClosedWatchServiceException | java.io.IOException e) {
                    // the test is over
                }
            });
            List<Path> made = SelfSignedCertificate.ensure(tls, java.time.Clock.systemUTC());
            assertThat(certificateMoved.await(20, TimeUnit.SECONDS)).as("the watcher saw the certificate moved into place; seen: %s", seen)
                    .isTrue();
            watcher.close();
            watching.join(10_000);
            assertThat(seen).as("entries seen").isNotEmpty();
            assertThat(exposed).as("what others could read; all seen: %s", seen).isEmpty();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get(1)))).isEqualTo("rw-------");
            try (var left = Files.list(tls)) {
                assertThat(left.map(p -> p.getFileName().toString()).sorted().toList()).as("nothing else is left but the lock file")
                        .containsExactly(SelfSignedCertificate.LOCK, SelfSignedCertificate.CERTIFICATE, SelfSignedCertificate.KEY);
            }
        } finally {
            watcher.close();
        }
    }

    /** The poll interval given to the watcher (time on the manual scheduler, not waited for). */
    private static final Duration POLL = Duration.ofSeconds(2);

    /**
     * Runs poll {@code n} (none for 0) and waits until it armed the next, its last step: at most
     * 60 s, as a poll that renews runs keytool, a JVM, on a loaded machine.
     */
    private static void poll(ManualScheduler scheduler, int n) throws InterruptedException {
        if (n > 0) {
            assertThat(scheduler.pending()).as("poll %d is armed", n).containsExactly(POLL);
            scheduler.advance(POLL);
        }
        assertThat(scheduler.delays.poll(60, TimeUnit.SECONDS)).as("poll %d completed and armed the next within 60 s", n).isEqualTo(POLL);
    }

    /**
     * Two hubs on the same data directory (a restart overlapping the old process, or two processes
     * started by hand) renew a certificate near its end at the same time: one makes the new pair, the
     * other takes it (unserialised, each made its own, and their moves could interleave).
     */
    @Test
    void twoHubsRenewingTogetherMakeOnePair() throws Exception {
        Path tls = data.resolve("tls");
        CertificateValidityTest.MovableClock clock = new CertificateValidityTest.MovableClock(Instant.now());
        X509Certificate first = TestCertificate.read(SelfSignedCertificate.ensure(tls, clock).get(0));
        clock.set(first.getNotAfter().toInstant().minus(Duration.ofDays(20))); // both see it within the renewal window
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(SelfSignedCertificate.class.getName());
        List<String> renewals = new CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage().contains("making a new certificate")) {
                    renewals.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<java.util.concurrent.Future<List<Path>>> hubs = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                hubs.add(pool.submit(() -> {
                    go.await();
                    return SelfSignedCertificate.ensure(tls, clock);
                }));
            }
            go.countDown();
            for (var hub : hubs) {
                hub.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            log.removeHandler(capture);
        }
        assertThat(renewals).as("renewals").hasSize(1);
        try (CertificateFiles files = CertificateFiles.selfSigned(tls, new ManualScheduler(), POLL, clock)) {
            assertThat(files.certificate()).isNotEqualTo(first);
        }
    }

    /**
     * A pair whose key does not belong to its certificate (what two unserialised renewals leave when
     * their moves interleave: A's key, B's key, B's certificate, A's certificate) is made again, not
     * kept because the certificate alone is still valid: before, the hub could not start with it.
     */
    @Test
    void aPairWhoseKeyDoesNotBelongToItsCertificateIsMadeAgain() throws Exception {
        Path tls = data.resolve("tls");
        java.time.Clock clock = java.time.Clock.systemUTC();
        SelfSignedCertificate.ensure(tls, clock);
        Path other = data.resolve("other");
        Path otherKey = SelfSignedCertificate.ensure(other, clock).get(1);
        Files.copy(otherKey, tls.resolve(SelfSignedCertificate.KEY), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        X509Certificate mismatched = TestCertificate.read(tls.resolve(SelfSignedCertificate.CERTIFICATE));
        try (CertificateFiles files = CertificateFiles.selfSigned(tls, new ManualScheduler(), POLL, clock)) {
            assertThat(files.certificate()).as("made again").isNotEqualTo(mismatched);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(SelfSignedCertificate.KEY)))).isEqualTo("rw-------");
    }

    @Test
    void aNewDirectoryIsPrivateFromTheStart() throws Exception {
        Path tls = data.resolve("fresh").resolve("tls");
        List<Path> made = SelfSignedCertificate.ensure(tls, java.time.Clock.systemUTC());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get(1)))).isEqualTo("rw-------");
    }

    @Test
    void theCertificateIsMadeAgainBeforeItEndsAndTheRunningHubReloadsIt() throws Exception {
        Path tls = data.resolve("tls");
        CertificateValidityTest.MovableClock clock = new CertificateValidityTest.MovableClock(Instant.now());
        List<Path> made = SelfSignedCertificate.ensure(tls, clock);
        X509Certificate first = TestCertificate.read(made.get(0));
        assertThat(TestCertificate.read(SelfSignedCertificate.ensure(tls, clock).get(0))).as("still good: kept").isEqualTo(first);

        ManualScheduler scheduler = new ManualScheduler();
        try (CertificateFiles files = CertificateFiles.selfSigned(tls, scheduler, POLL, clock)) {
            poll(scheduler, 0); // the first poll is armed
            assertThat(files.certificate()).isEqualTo(first);
            for (int i = 1; i <= 3; i++) {
                poll(scheduler, i);
            }
            assertThat(files.certificate()).as("far from its end: kept over three polls").isEqualTo(first);
            assertThat(TestCertificate.read(made.get(0))).isEqualTo(first);
            Instant later = first.getNotAfter().toInstant().minus(Duration.ofDays(20)); // within the renewal window
            clock.set(later);
            poll(scheduler, 4); // renews (keytool runs in it) and reloads
            assertThat(files.certificate()).as("renewed and reloaded by the first poll in the window").isNotEqualTo(first);
            X509Certificate renewed = files.certificate();
            renewed.checkValidity(java.util.Date.from(later));
            assertThat(renewed.getNotAfter().toInstant()).isAfter(later.plus(Duration.ofDays(300)));
            assertThat(TestCertificate.read(made.get(0))).isEqualTo(renewed);
            for (int i = 5; i < 10; i++) {
                poll(scheduler, i); // five more polls: renewed once, not on every poll
            }
            assertThat(files.certificate()).isEqualTo(renewed);
            assertThat(TestCertificate.read(made.get(0))).isEqualTo(renewed);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get(1)))).isEqualTo("rw-------");
    }
}
