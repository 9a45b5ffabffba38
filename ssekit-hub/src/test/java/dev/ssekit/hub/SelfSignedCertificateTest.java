package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Scheduler;
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
            Thread.sleep(300); // the last events
            watcher.close();
            watching.join(10_000);
            assertThat(seen).as("entries seen").isNotEmpty();
            assertThat(exposed).as("what others could read; all seen: %s", seen).isEmpty();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get(1)))).isEqualTo("rw-------");
            try (var left = Files.list(tls)) {
                assertThat(left.map(p -> p.getFileName().toString()).sorted().toList()).as("nothing else is left")
                        .containsExactly(SelfSignedCertificate.CERTIFICATE, SelfSignedCertificate.KEY);
            }
        } finally {
            watcher.close();
        }
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

        try (CertificateFiles files = CertificateFiles.selfSigned(tls, Scheduler.system(), Duration.ofMillis(100), clock)) {
            assertThat(files.certificate()).isEqualTo(first);
            Instant later = first.getNotAfter().toInstant().minus(Duration.ofDays(20)); // within the renewal window
            clock.set(later);
            await().atMost(Duration.ofSeconds(30)).until(() -> !files.certificate().equals(first));
            X509Certificate renewed = files.certificate();
            renewed.checkValidity(java.util.Date.from(later));
            assertThat(renewed.getNotAfter().toInstant()).isAfter(later.plus(Duration.ofDays(300)));
            assertThat(TestCertificate.read(made.get(0))).isEqualTo(renewed);
            Thread.sleep(500); // five more polls: renewed once, not on every poll
            assertThat(files.certificate()).isEqualTo(renewed);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get(1)))).isEqualTo("rw-------");
    }
}
