package dev.ssekit.hub;

import static dev.ssekit.hub.HubSockets.CLOSED_WITHIN_MS;
import static dev.ssekit.hub.HubSockets.closed;
import static dev.ssekit.hub.HubSockets.response;
import static dev.ssekit.hub.HubSockets.send;
import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.TestCertificate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #28, item 2, over sockets: every phase of a connection has its timeout. A kept-alive
 * connection that goes idle, a second request head trickled a byte at a time, a body that stalls, a
 * TLS handshake that never ends: each is closed within its timeout (here 1 to 3 s, waited for up to
 * 6 s). A publish without a credential is refused on its head, before its body; the bytes of
 * incomplete bodies are capped, with 503 past the cap.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubConnectionTimeoutsTest {

    @TempDir
    Path dir;
    private MercureHub hub;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    private void start(Optional<CertificateFiles> tls, long maxPending) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 10, 100,
                false, false, "", Duration.ofSeconds(1), tls).withLimits(HubConfig.Limits.DEFAULT
                        .withTimeouts(Duration.ofSeconds(3), 1024, Duration.ofSeconds(1)).withMaxPendingBytes(maxPending)),
                Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
    }

    private void start() {
        start(Optional.empty(), 64L << 20);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(hub.address(), 5000);
        s.setSoTimeout(CLOSED_WITHIN_MS);
        return s;
    }

    private static String publisher() throws Exception {
        return token("{\"mercure\":{\"publish\":[\"*\"]}}");
    }

    @Test
    void anIdleKeptAliveConnectionIsClosed() throws Exception {
        start();
        Socket s = connect();
        send(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 200");
        closed(s);
    }

    @Test
    void aSecondRequestHeadTrickledAByteAtATimeIsCutOff() throws Exception {
        start();
        Socket s = connect();
        send(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 200");
        String next = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100);
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < next.length() && System.nanoTime() - t0 < CLOSED_WITHIN_MS * 1_000_000L; i++) {
                send(s, next.substring(i, i + 1));
                Thread.sleep(200);
            }
        } catch (IOException closed) {
            return; // the hub closed it while it trickled
        }
        closed(s);
    }

    @Test
    void aPartialBodyIsCutOff() throws Exception {
        start();
        Socket s = connect();
        send(s, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + publisher()
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\ntopic=x&data=" + "a".repeat(100_000));
        closed(s);
    }

    @Test
    void aPublishWithoutACredentialIsRefusedOnItsHead() throws Exception {
        start();
        Socket s = connect();
        send(s, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 1048576\r\n\r\ntopic=x");
        assertThat(response(s)).startsWith("HTTP/1.1 401");
        Socket forged = connect();
        send(forged, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not.a.token\r\n"
                + "Content-Length: 1048576\r\n\r\n");
        assertThat(response(forged)).startsWith("HTTP/1.1 401");
        closed(forged);
    }

    @Test
    void incompleteBodiesPastTheCapAre503() throws Exception {
        start(Optional.empty(), 300 * 1024);
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Socket s = connect();
            s.setSoTimeout(500);
            send(s, "POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + publisher()
                    + "\r\nContent-Length: 1048576\r\n\r\ntopic=x&data=" + "a".repeat(100 * 1024));
            try {
                answers.add(response(s));
            } catch (java.net.SocketTimeoutException stillReading) {
                answers.add("(reading)");
            }
        }
        assertThat(answers.subList(0, 2)).containsOnly("(reading)");
        assertThat(answers.subList(3, 5)).allSatisfy(a -> assertThat(a).startsWith("HTTP/1.1 503").contains("retry-after: 5"));
        // the hub still serves
        Socket s = connect();
        send(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(response(s)).startsWith("HTTP/1.1 200");
    }

    @Test
    void aStalledTlsHandshakeIsCutOff() throws Exception {
        TestCertificate certificate = TestCertificate.create(dir, "hub");
        start(Optional.of(CertificateFiles.watch(certificate.certificate(), certificate.key(), Scheduler.system(), CertificateFiles.POLL)),
                64L << 20);
        Socket silent = connect(); // not a byte
        Socket partial = connect();
        send(partial, "\u0016\u0003\u0001\u0002\u0000\u0001"); // a ClientHello record's header, then nothing
        closed(silent);
        closed(partial);
    }
}
