package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.TestCertificate;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub over HTTPS: certificate reload without a restart, what a broken certificate pair does,
 * startup errors, and HTTP/2 for curl from a hub started as a user starts it.
 */
@Timeout(60)
class HubTlsTest {

    @TempDir
    static Path certificates;
    static TestCertificate first;
    static TestCertificate second;

    @TempDir
    Path dir;
    private Path certFile;
    private Path keyFile;
    private Broadcaster broadcaster;
    private MercureHub hub;
    private final List<RawHttp> clients = new ArrayList<>();
    /** The reload log records (kept here: a JUL logger without a strong reference may be collected). */
    private final Logger reloadLog = Logger.getLogger(CertificateFiles.class.getName());
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

    @BeforeAll
    static void certificates() throws Exception {
        first = TestCertificate.create(certificates, "first");
        second = TestCertificate.create(certificates, "second");
    }

    @BeforeEach
    void files() throws Exception {
        certFile = dir.resolve("hub.crt");
        keyFile = dir.resolve("hub.key");
        Files.copy(first.certificate(), certFile);
        Files.copy(first.key(), keyFile);
        reloadLog.addHandler(capture);
    }

    @AfterEach
    void stop() throws Exception {
        reloadLog.removeHandler(capture);
        for (RawHttp c : clients) {
            c.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    /** A hub whose certificate files are looked at every 100 ms. */
    private void startHub() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        CertificateFiles tls = CertificateFiles.watch(certFile, keyFile, Scheduler.system(), Duration.ofMillis(100));
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024, 100, 100,
                false, false, "", Duration.ofSeconds(10), Optional.of(tls)), broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    /** A subscriber to topic {@code x} over TLS, trusting both test certificates. */
    private RawHttp subscribe() throws Exception {
        RawHttp c = RawHttp.get(TestCertificate.trusting(first.x509(), second.x509()), hub.address(), HubHandler.PATH + "?topic=x", "HTTP/1.1");
        clients.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    /** Replaces both files with {@code c}'s, the certificate first (so a poll may see a mixed pair). */
    private void replaceWith(TestCertificate c) throws Exception {
        for (Path[] p : new Path[][] {{c.certificate(), certFile}, {c.key(), keyFile}}) {
            Path tmp = dir.resolve(p[1].getFileName() + ".new");
            Files.copy(p[0], tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, p[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Waits (up to 10 s) until the reload log has a record of this level and returns it. */
    private LogRecord awaitRecord(Level level) {
        return await("a " + level + " record from CertificateFiles").atMost(java.time.Duration.ofSeconds(10)).until(() -> {
            synchronized (records) {
                // the test certificates live two days: the near-expiry warning about them is not what these tests wait for
                return records.stream().filter(r -> r.getLevel().equals(level))
                        .filter(r -> !r.getMessage().startsWith("the served TLS certificate")).findFirst().orElse(null);
            }
        }, java.util.Objects::nonNull);
    }

    private void awaitSubscribers(int n) {
        await().atMost(java.time.Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(broadcaster.stats().connections()).as("subscribers").isEqualTo(n));
    }

    @Test
    void aReplacedCertificateServesNewConnectionsWhileAnOpenStreamKeepsReceiving() throws Exception {
        startHub();
        RawHttp old = subscribe();
        assertThat(old.peerCertificate()).isEqualTo(first.x509());
        awaitSubscribers(1);
        broadcaster.publish(SseMessage.of("before"), "x");
        assertThat(old.events(1).getFirst().data()).isEqualTo("before");

        replaceWith(second);
        awaitRecord(Level.INFO); // "TLS certificate reloaded" (a mixed pair on the way is a WARNING, then this)
        RawHttp renewed = subscribe();
        X509Certificate served = renewed.peerCertificate();
        assertThat(served).as("the certificate a new connection gets, no restart").isEqualTo(second.x509());
        awaitSubscribers(2);

        broadcaster.publish(SseMessage.of("after"), "x");
        assertThat(old.events(1).getFirst().data()).as("the stream opened before the reload").isEqualTo("after");
        assertThat(old.peerCertificate()).isEqualTo(first.x509());
        assertThat(renewed.events(1).getFirst().data()).isEqualTo("after");
    }

    @Test
    void aBrokenReplacementKeepsTheCurrentCertificateAndLogsAWarning() throws Exception {
        startHub();
        Files.writeString(certFile, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
        LogRecord warning = awaitRecord(Level.WARNING);
        assertThat(new java.util.logging.SimpleFormatter().formatMessage(warning))
                .contains("keep the previous certificate").contains("--tls-cert " + certFile);
        assertThat(subscribe().peerCertificate()).isEqualTo(first.x509());
        // the same broken files are not reported again; a good pair is taken
        records.clear();
        replaceWith(second);
        awaitRecord(Level.INFO);
        assertThat(subscribe().peerCertificate()).isEqualTo(second.x509());
    }

    @Test
    void startupErrorsNameTheSettingAndTheFile() throws Exception {
        Path missing = dir.resolve("missing.crt");
        assertThatThrownBy(() -> CertificateFiles.watch(missing, keyFile, Scheduler.system(), CertificateFiles.POLL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--tls-cert " + missing + ": cannot read it");
        Path rsa = dir.resolve("pkcs1.key");
        Files.writeString(rsa, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> CertificateFiles.watch(certFile, rsa, Scheduler.system(), CertificateFiles.POLL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--tls-key " + rsa)
                .hasMessageContaining("PKCS#8").hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
        assertThatThrownBy(() -> CertificateFiles.watch(certFile, second.key(), Scheduler.system(), CertificateFiles.POLL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--tls-cert " + certFile)
                .hasMessageContaining("--tls-key " + second.key()).hasMessageContaining("does not belong to the certificate");
        assertThatThrownBy(() -> CertificateFiles.watch(keyFile, keyFile, Scheduler.system(), CertificateFiles.POLL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--tls-cert " + keyFile + ": no PEM certificate");
    }

    @Test
    void bothTlsOptionsOrNeither() {
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--tls-cert", "a.crt"}, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--tls-cert").hasMessageContaining("--tls-key");
        assertThatThrownBy(() -> HubOptions.parse(new String[0], Map.of("SSEKIT_TLS_KEY", "a.key")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SSEKIT_TLS_KEY").hasMessageContaining("--tls-cert");
    }

    @Test
    void curlGetsHttp2FromAHubStartedWithTlsOptions() throws Exception {
        try (HubProcess process = HubProcess.start(dir.resolve("data"), "a-publisher-key-of-32-bytes-at-least!!",
                "--tls-cert", certFile.toString(), "--tls-key", keyFile.toString())) {
            assertThat(process.url().getScheme()).isEqualTo("https");
            Process curl = new ProcessBuilder("curl", "-sk", "--http2", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_version}",
                    "https://127.0.0.1:" + process.url().getPort() + "/healthz").redirectErrorStream(true).start();
            boolean finished = curl.waitFor(30, TimeUnit.SECONDS);
            if (!finished) {
                curl.destroyForcibly();
            }
            String out = new String(curl.getInputStream().readAllBytes(), UTF_8);
            assertThat(finished).as("curl finished; output: %s", out).isTrue();
            assertThat(curl.exitValue()).as("curl exit code; output: %s", out).isZero();
            assertThat(out).isEqualTo("2");
        }
    }

    /**
     * {@code --tls self-signed} (demo mode): the hub makes a localhost certificate, serves it, prints
     * its SHA-256 fingerprint, and keeps it in the data directory for the next start.
     */
    @Test
    void aSelfSignedDemoHubPrintsTheFingerprintOfTheCertificateItServes() throws Exception {
        Path data = dir.resolve("self-signed-data");
        String printed;
        try (HubProcess process = HubProcess.start(data, null, "--tls", "self-signed")) {
            assertThat(process.url().getScheme()).isEqualTo("https");
            // printed after the tokens HubProcess waits for: a loaded machine may not have written it yet
            printed = org.awaitility.Awaitility.await("the TLS certificate line").atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> Files.readAllLines(process.log(), UTF_8).stream().filter(l -> l.startsWith("TLS certificate:"))
                            .findFirst(), java.util.Optional::isPresent).orElseThrow();
            String served = SelfSignedCertificate.fingerprint(peerCertificate(process.url().getPort()));
            assertThat(printed).contains("SHA-256 fingerprint " + served);
        }
        assertThat(data.resolve("tls").resolve(SelfSignedCertificate.KEY)).exists();
        try (HubProcess again = HubProcess.start(data, null, "--tls", "self-signed")) {
            String servedAgain = SelfSignedCertificate.fingerprint(peerCertificate(again.url().getPort()));
            assertThat(printed).as("the same certificate after a restart").contains(servedAgain);
        }
    }

    /** The certificate a TLS server presents, taken without trusting it (the test checks it by fingerprint). */
    private static X509Certificate peerCertificate(int port) throws Exception {
        javax.net.ssl.TrustManager acceptAny = new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, new javax.net.ssl.TrustManager[] {acceptAny}, null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }
}
