package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JWK set server that sends its response headers, then one byte of body every half second: the
 * fetch times out after {@link JwtVerifier#FETCH_TIMEOUT}, and the hub must then close that
 * connection (the server sees end of stream) rather than leave it open to buffer the body.
 */
@Timeout(60)
class JwksTimeoutTest {

    /** One connection the server accepted: when it saw the client close it (nanoTime), or 0 while open. */
    private static final class Conn {
        final Socket socket;
        volatile long closedAt;
        /** Counted down when the connection is seen closed: what the server's threads wait on instead of sleeping. */
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        Conn(Socket socket) {
            this.socket = socket;
        }

        void closed() {
            if (closedAt == 0) {
                closedAt = System.nanoTime();
            }
            closed.countDown();
        }
    }

    private ServerSocket server;
    private final List<Conn> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private HttpClient http;
    private JwtVerifier verifier;

    @BeforeEach
    void trickle() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("jwks-trickle-accept").start(() -> {
            while (!server.isClosed()) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return;
                }
                Conn c = new Conn(s);
                accepted.add(c);
                Thread.ofVirtual().start(() -> serve(c));
            }
        });
        http = HttpClient.newBuilder().connectTimeout(JwtVerifier.FETCH_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Reads the request head, sends the headers, then a byte every 0.5 s (at most 60) while another thread waits for EOF. */
    private void serve(Conn c) {
        try (Socket s = c.socket) {
            s.setSoTimeout(40_000);
            InputStream in = s.getInputStream();
            int matched = 0;
            byte[] end = "\r\n\r\n".getBytes(US_ASCII);
            while (matched < end.length) {
                int b = in.read();
                if (b < 0) {
                    c.closed();
                    return;
                }
                matched = b == end[matched] ? matched + 1 : b == end[0] ? 1 : 0;
            }
            requests.incrementAndGet();
            Thread.ofVirtual().start(() -> {
                try {
                    while (in.read() >= 0) {
                        // a client sends nothing more: any byte is ignored
                    }
                } catch (IOException e) {
                    // reset or timed out: closed either way for this test
                }
                c.closed();
            });
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/jwk-set+json\r\nContent-Length: 1000000\r\n\r\n{".getBytes(US_ASCII));
            out.flush();
            // the trickle is the behaviour under test (a server slower than the fetch timeout), so this
            // waits on the wall clock: half a second between bytes, ending at once when the client closes
            for (int i = 0; i < 60 && !c.closed.await(500, TimeUnit.MILLISECONDS); i++) {
                out.write(' ');
                out.flush();
            }
            // hold the connection until the client closes it, the reader's timeout ends it, or stop() closes the socket
            c.closed.await(40, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            c.closed();
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (verifier != null) {
            verifier.close();
        }
        http.shutdownNow();
        server.close();
        for (Conn c : accepted) {
            c.socket.close();
        }
    }

    private long open() {
        return accepted.stream().filter(c -> c.closedAt == 0).count();
    }

    @Test
    void aFetchThatTimesOutClosesItsConnectionAndRepeatedFetchesDoNotAccumulateSockets() throws Exception {
        URI url = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/jwks.json");
        long started = System.nanoTime();
        verifier = JwtVerifier.jwks(url, http, Duration.ofHours(1), Duration.ZERO);
        verifier.afterNextFetch().get(20, TimeUnit.SECONDS); // the first fetch ends: timed out
        long failed = System.nanoTime();
        assertThat(Duration.ofNanos(failed - started)).as("the fetch ended by its timeout").isGreaterThanOrEqualTo(Duration.ofSeconds(4));
        assertThat(requests.get()).isEqualTo(1);
        await("the server sees the timed-out fetch's connection closed").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(open()).as("connections still open at the server").isZero());

        for (int round = 2; round <= 3; round++) {
            // an unknown signer makes the verifier fetch again (no refetch limit here)
            var waiting = verifier.verify(JwtVerifierTest.tokenUnchecked("{}"), JwtVerifierTest.NOW).toCompletableFuture();
            try {
                waiting.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException expected) {
                assertThat(expected.getCause()).isInstanceOf(JwtException.class);
            }
            int r = round;
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(requests.get()).isEqualTo(r));
            await("round " + round + ": the connection is closed").atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(open()).as("connections still open at the server").isZero());
        }
        assertThat(accepted).as("one connection per fetch, none left open").hasSize(3);
    }
}
