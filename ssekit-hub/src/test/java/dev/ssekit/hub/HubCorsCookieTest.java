package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #28, item 3: under {@code --cors-origins '*'} a page on a foreign origin can neither publish
 * with the victim's {@code mercureAuthorization} cookie (the CSRF check has its own allowlist,
 * {@code --publish-origins}, never {@code *}) nor read a private stream with it; {@code *} is answered
 * as {@code *}, never as a reflected origin with {@code Access-Control-Allow-Credentials}.
 */
@Timeout(30)
class HubCorsCookieTest {

    private static final String EVIL = "https://evil.example";
    private static final String APP = "https://app.example.com";

    private Broadcaster broadcaster;
    private MercureHub hub;

    @BeforeEach
    void start() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of("*"), 64 * 1024, 100, 50,
                false, false, "", Duration.ofSeconds(10), Optional.empty()), broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    /** One HTTP/1.1 request, its whole response (the connection closes after it). */
    private String exchange(String head, String body) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(hub.address(), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((head + "Host: 127.0.0.1\r\nConnection: close\r\nContent-Length: " + body.getBytes(UTF_8).length
                    + "\r\n\r\n" + body).getBytes(UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), UTF_8);
        }
    }

    @Test
    void aCookiePublishFromAForeignOriginIsRefusedUnderStar() throws Exception {
        String cookie = token("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"*\"]}}");
        String response = exchange("POST " + HubHandler.PATH + " HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Origin: " + EVIL + "\r\nCookie: " + Authorizer.COOKIE + "=" + cookie + "\r\n", "topic=private&private=on&data=forged");
        assertThat(response).startsWith("HTTP/1.1 403");
        assertThat(broadcaster.stats().published()).as("nothing published").isZero();
        assertThat(response.toLowerCase(java.util.Locale.ROOT)).doesNotContain("access-control-allow-credentials");
    }

    @Test
    void aPrivateStreamIsNotReadWithTheCookieFromAForeignOrigin() throws Exception {
        String cookie = "Cookie: " + Authorizer.COOKIE + "=" + token("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        try (RawHttp s = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=private&lastEventID=earliest", "HTTP/1.1", cookie,
                "Origin: " + EVIL)) {
            assertThat(s.statusLine).isEqualTo("HTTP/1.1 403 Forbidden");
            assertThat(s.headers.keySet()).doesNotContain("access-control-allow-credentials");
        }
    }

    @Test
    void starIsAnsweredAsStarWithoutCredentials() throws Exception {
        String preflight = exchange("OPTIONS " + HubHandler.PATH + " HTTP/1.1\r\nOrigin: " + EVIL
                + "\r\nAccess-Control-Request-Method: GET\r\n", "");
        assertThat(preflight).startsWith("HTTP/1.1 204");
        String lower = preflight.toLowerCase(java.util.Locale.ROOT);
        assertThat(lower).contains("access-control-allow-origin: *\r\n").doesNotContain("access-control-allow-credentials")
                .doesNotContain(EVIL);
        try (RawHttp s = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=public", "HTTP/1.1", "Origin: " + EVIL)) {
            assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(s.headers).containsEntry("access-control-allow-origin", "*")
                    .doesNotContainKey("access-control-allow-credentials");
        }
    }

    @Test
    void anExplicitOriginMayUseTheCookieAndGetsCredentials() throws Exception {
        hub.close();
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(APP), 64 * 1024, 100, 50,
                false, false, "", Duration.ofSeconds(10), Optional.empty()).withLimits(HubConfig.Limits.DEFAULT.withPublishOrigins(Set.of(APP))),
                broadcaster, Scheduler.system(), Clock.systemUTC());
        String cookie = token("{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"*\"]}}");
        String ok = exchange("POST " + HubHandler.PATH + " HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Origin: " + APP + "\r\nCookie: " + Authorizer.COOKIE + "=" + cookie + "\r\n", "topic=private&private=on&data=mine");
        assertThat(ok).startsWith("HTTP/1.1 200").contains("Access-Control-Allow-Origin: " + APP)
                .contains("Access-Control-Allow-Credentials: true");
    }
}
