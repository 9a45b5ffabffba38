package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #24, item 2: without {@code --resource-id} the audience is derived from each request
 * (scheme, {@code Host}, hub path). A TLS-terminating proxy in front of a plain-HTTP hub says the
 * client's scheme in {@code X-Forwarded-Proto} or {@code Forwarded: proto=}; the hub believes it
 * only from a {@code --trusted-proxies} peer, never from anyone else (who could otherwise make a
 * token minted for one scheme count for the other). Over sockets: the peer is 127.0.0.1.
 */
@Timeout(30)
class HubForwardedAudienceTest {

    private static final String ISSUER = "https://idp.example";
    private static final String HTTPS_AUDIENCE = "https://hub.example/.well-known/mercure";

    private final Broadcaster broadcaster = Broadcaster.create();
    private MercureHub hub;

    @AfterEach
    void stop() {
        if (hub != null) {
            hub.close();
        }
        broadcaster.close();
    }

    private void start(Set<String> trustedProxies) {
        HubConfig.Protocol derived = new HubConfig.Protocol(0, List.of(new AccessTokens.Issuer(ISSUER,
                Optional.of(JwtVerifier.secret(KEY)), Optional.of(JwtVerifier.secret(KEY)))), Optional.empty(), Set.of(),
                HubConfig.Protocol.DEFAULT_PER_CLIENT, trustedProxies);
        hub = MercureHub.start(Mercure10ProtocolTest.config(derived, true), broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    private static String token(String audience) throws Exception {
        return hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + audience + "\",\"exp\":"
                + (System.currentTimeMillis() / 1000 + 600) + ",\"authorization_details\":[{\"type\":\"" + AuthorizationDetails.TYPE
                + "\",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"*\"}]}]}", KEY);
    }

    /** A publish over plain HTTP with these extra header lines; the response's status line. */
    private String publish(String token, String... headers) throws Exception {
        String body = "topic=https%3A%2F%2Fexample.com%2Fbooks%2F1&data=x";
        StringBuilder head = new StringBuilder("POST " + HubHandler.PATH + " HTTP/1.1\r\nHost: hub.example\r\n"
                + "Authorization: Bearer " + token + "\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n");
        for (String h : headers) {
            head.append(h).append("\r\n");
        }
        try (Socket s = new Socket()) {
            s.connect(hub.address(), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((head + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(UTF_8));
            out.flush();
            String response = new String(s.getInputStream().readAllBytes(), UTF_8);
            return response.lines().findFirst().orElse("");
        }
    }

    @Test
    void aTrustedProxysForwardedProtoSetsTheSchemeOfTheDerivedAudience() throws Exception {
        start(Set.of("127.0.0.1"));
        assertThat(publish(token(HTTPS_AUDIENCE), "X-Forwarded-Proto: https")).startsWith("HTTP/1.1 200");
        assertThat(publish(token(HTTPS_AUDIENCE), "Forwarded: for=198.51.100.7;proto=https;host=hub.example"))
                .startsWith("HTTP/1.1 200");
        // the proxy says plain http (or says nothing): the https token does not name this hub
        assertThat(publish(token(HTTPS_AUDIENCE), "X-Forwarded-Proto: http")).startsWith("HTTP/1.1 401");
        assertThat(publish(token(HTTPS_AUDIENCE))).startsWith("HTTP/1.1 401");
        assertThat(publish(token("http://hub.example/.well-known/mercure"))).startsWith("HTTP/1.1 200");
    }

    @Test
    void anUntrustedPeerCannotChooseTheScheme() throws Exception {
        start(Set.of("10.9.9.9"));
        assertThat(publish(token(HTTPS_AUDIENCE), "X-Forwarded-Proto: https")).startsWith("HTTP/1.1 401");
        assertThat(publish(token(HTTPS_AUDIENCE), "Forwarded: proto=https")).startsWith("HTTP/1.1 401");
        assertThat(publish(token("http://hub.example/.well-known/mercure"), "X-Forwarded-Proto: https"))
                .startsWith("HTTP/1.1 200");
    }
}
