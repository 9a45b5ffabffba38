package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A publish whose token is verified asynchronously (the hub fetches its JWK set from an identity
 * provider that takes {@link #DELAY_MS} to answer) over sockets (issue #28): nothing of its body is
 * taken in before the token is verified beyond {@link HubConfig.Limits#maxUnverifiedBytes()} (past
 * it: 413 and the connection closes); {@code Expect: 100-continue} is answered 100 only once the token
 * verified, and a request without a valid token is refused without a 100; and the body rate floor does
 * not count the time the hub itself stopped reading for the fetch.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubPublishVerificationTest {

    private static final String PUBLISH = "{\"mercure\":{\"publish\":[\"*\"]}}";
    private static final long DELAY_MS = 1500;

    private static TestKey key;
    private static TestKey other;

    @BeforeAll
    static void keys() {
        key = TestKey.generate(JWSAlgorithm.RS256);
        other = TestKey.generate(JWSAlgorithm.RS256);
    }

    private volatile long delayMs = DELAY_MS;
    private final AtomicInteger fetches = new AtomicInteger();
    private HttpServer idp;
    private HttpClient http;
    private MercureHub hub;
    private Broadcaster broadcaster;

    @BeforeEach
    void startIdentityProvider() throws Exception {
        String jwks = new JWKSet(List.of(key.jwk("key-a"))).toString(true);
        idp = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        idp.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        idp.createContext("/certs", exchange -> {
            fetches.incrementAndGet();
            try (exchange) {
                Thread.sleep(delayMs);
                byte[] bytes = jwks.getBytes(UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
                exchange.sendResponseHeaders(200, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        idp.start();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        if (hub != null) {
            hub.close();
        }
        if (broadcaster != null) {
            broadcaster.close();
        }
        idp.stop(0);
        http.close();
    }

    private void start(HubConfig.Limits limits) {
        URI url = URI.create("http://127.0.0.1:" + idp.getAddress().getPort() + "/certs");
        JwtVerifier keys = JwtVerifier.jwks(url, http, Duration.ofHours(1), Duration.ofMillis(1));
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), keys, keys, false, Set.of(), 1 << 20,
                100, 100, false, false, "", Duration.ofSeconds(10), Optional.empty()).withLimits(limits), broadcaster,
                Scheduler.system(), Clock.systemUTC());
    }

    private Socket connect() throws Exception {
        Socket s = new Socket();
        s.connect(hub.address(), 5000);
        s.setSoTimeout(15_000);
        return s;
    }

    private static String line(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n';) {
            b.append((char) c);
        }
        return b.toString().strip();
    }

    private static String head(String token, int length, boolean expect) {
        return "POST " + MercureProtocol.PATH + " HTTP/1.1\r\nHost: x\r\n" + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + length + "\r\n"
                + (expect ? "Expect: 100-continue\r\n" : "") + "\r\n";
    }

    private static String form(int bytes) {
        String start = "topic=https%3A%2F%2Fexample.com%2Fa&data=";
        return start + "x".repeat(bytes - start.length());
    }

    @Test
    void expect100IsAnsweredOnlyOnceTheTokenVerified() throws Exception {
        start(HubConfig.Limits.DEFAULT);
        String body = form(64);
        try (Socket s = connect()) {
            // signed by another key under the set's kid: invalid once the set is fetched
            HubSockets.send(s, head(other.sign("key-a", PUBLISH), body.length(), true));
            assertThat(line(s.getInputStream())).as("the first answer to a token that does not verify").startsWith("HTTP/1.1 401");
        }
        assertThat(fetches.get()).as("the token was verified with the fetched set").isPositive();
        try (Socket s = connect()) {
            HubSockets.send(s, head(null, body.length(), true));
            assertThat(line(s.getInputStream())).as("the first answer without a token").startsWith("HTTP/1.1 401");
        }
        delayMs = DELAY_MS; // a valid token: 100 once verified (the kid is known now: at once), then the publish
        try (Socket s = connect()) {
            HubSockets.send(s, head(key.sign("key-a", PUBLISH), body.length(), true));
            String first = line(s.getInputStream());
            assertThat(first).isEqualTo("HTTP/1.1 100 Continue");
            line(s.getInputStream()); // the empty line after the interim head
            HubSockets.send(s, body);
            assertThat(HubSockets.response(s)).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void aBodyPastTheUnverifiedBoundIsRefusedNotBuffered() throws Exception {
        start(HubConfig.Limits.DEFAULT.withMaxUnverifiedBytes(256));
        String big = form(16 << 10);
        try (Socket s = connect()) {
            HubSockets.send(s, head(key.sign("key-a", PUBLISH), big.length(), false) + big);
            assertThat(HubSockets.response(s)).as("16 KiB sent with the head while the token is verified").startsWith("HTTP/1.1 413");
            HubSockets.closed(s);
        }
        String small = form(200); // within the bound: published once the token verified
        delayMs = DELAY_MS;
        try (Socket s = connect()) {
            HubSockets.send(s, head(key.sign("key-a", PUBLISH), small.length(), false) + small);
            assertThat(HubSockets.response(s)).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void theBodyRateFloorDoesNotCountTheTimeTheHubStoppedReading() throws Exception {
        delayMs = 4500; // within the fetch timeout (5 s), near the rate window (5 s)
        start(HubConfig.Limits.DEFAULT.withTimeouts(Duration.ofSeconds(30), 1024, Duration.ofSeconds(30)));
        String body = form(8 << 10);
        try (Socket s = connect()) {
            // the head and 600 bytes, then 600 bytes every 0.4 s (1,500 bytes/s, over the 1,024 floor)
            HubSockets.send(s, head(key.sign("key-a", PUBLISH), body.length(), false) + body.substring(0, 600));
            for (int at = 600; at < body.length(); at += 600) {
                Thread.sleep(400);
                HubSockets.send(s, body.substring(at, Math.min(body.length(), at + 600)));
            }
            assertThat(HubSockets.response(s)).as("a publish sent above the floor, paused by the hub for its JWK set")
                    .startsWith("HTTP/1.1 200");
        }
    }
}
