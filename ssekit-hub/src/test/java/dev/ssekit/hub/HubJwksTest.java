package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub with publishers' and subscribers' keys from a JWK set served by a local identity
 * provider, as Keycloak, Auth0, Cognito or Entra publish theirs: keys chosen by {@code kid}, and a
 * key rotation while subscribers are connected.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubJwksTest {

    static final String PUBLISH = "{\"mercure\":{\"publish\":[\"*\"]}}";
    static final String SUBSCRIBE = "{\"mercure\":{\"subscribe\":[\"https://example.com/orders/{id}\"]}}";

    static TestKey a;
    static TestKey b;

    @BeforeAll
    static void keys() {
        a = TestKey.generate(JWSAlgorithm.RS256);
        b = TestKey.generate(JWSAlgorithm.ES256);
    }

    private volatile String jwks;
    private final AtomicInteger fetches = new AtomicInteger();
    private HttpServer idp;
    private URI url;
    private HttpClient http;

    @BeforeEach
    void startIdentityProvider() throws Exception {
        idp = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        idp.createContext("/realms/app/certs", exchange -> {
            fetches.incrementAndGet();
            try (exchange) {
                byte[] bytes = jwks.getBytes(UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
                exchange.sendResponseHeaders(200, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        });
        idp.start();
        url = URI.create("http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/app/certs");
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stopIdentityProvider() {
        idp.stop(0);
        http.close();
    }

    private void serve(JWK... keys) {
        jwks = new JWKSet(List.of(keys)).toString(true);
    }

    private HttpResponse<String> publish(MercureHub hub, String token, String topic, String data) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.address().getPort() + HubHandler.PATH))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=" + URLEncoder.encode(topic, UTF_8) + "&private=on&data=" + data))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static RawHttp subscribe(MercureHub hub, String token) throws Exception {
        return RawHttp.get(hub.address(), HubHandler.PATH + "?topic=" + URLEncoder.encode("https://example.com/orders/{id}", UTF_8),
                "HTTP/1.1", "Authorization: Bearer " + token);
    }

    @Test
    void keysByKidAndARotationWhileSubscribersAreConnected() throws Exception {
        serve(a.jwk("key-a"));
        // periodic refresh far away: this test rotates through refetches on unknown key ids
        JwtVerifier keys = JwtVerifier.jwks(url, http, Duration.ofHours(1), Duration.ofMillis(1));
        Broadcaster broadcaster = Broadcaster.create();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), keys, keys, false, Set.of(), 64 * 1024,
                100, 100, false, false, "", Duration.ofSeconds(10), Optional.empty()), broadcaster, Scheduler.system(), Clock.systemUTC());
        try (RawHttp before = subscribe(hub, a.sign("key-a", SUBSCRIBE))) {
            assertThat(before.statusLine).isEqualTo("HTTP/1.1 200 OK");
            HttpResponse<String> first = publish(hub, a.sign("key-a", PUBLISH), "https://example.com/orders/1", "one");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(before.readEvent()).isEqualTo(":\nid: " + first.body() + "\ndata: one\n\n");

            // the provider rotates: key B added, then key A withdrawn
            serve(b.jwk("key-b"));
            HttpResponse<String> second = publish(hub, b.sign("key-b", PUBLISH), "https://example.com/orders/2", "two");
            assertThat(second.statusCode()).as("an unknown kid makes the hub fetch the set again").isEqualTo(200);
            assertThat(before.readEvent()).as("the subscriber connected before the rotation keeps its stream")
                    .isEqualTo("id: " + second.body() + "\ndata: two\n\n");

            try (RawHttp after = subscribe(hub, b.sign("key-b", SUBSCRIBE))) {
                assertThat(after.statusLine).isEqualTo("HTTP/1.1 200 OK");
                HttpResponse<String> third = publish(hub, b.sign("key-b", PUBLISH), "https://example.com/orders/3", "three");
                assertThat(after.readEvent()).isEqualTo(":\nid: " + third.body() + "\ndata: three\n\n");
                assertThat(before.readEvent()).isEqualTo("id: " + third.body() + "\ndata: three\n\n");
            }
            HttpResponse<String> withdrawn = publish(hub, a.sign("key-a", PUBLISH), "https://example.com/orders/4", "four");
            assertThat(withdrawn.statusCode()).as("key A is gone from the set").isEqualTo(401);
            assertThat(withdrawn.body()).isEqualTo("unknown key id\n");
            try (RawHttp stale = subscribe(hub, a.sign("key-a", SUBSCRIBE))) {
                assertThat(stale.statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
            }
            HttpResponse<String> forged = publish(hub, TestKey.generate(JWSAlgorithm.ES256).sign("key-b", PUBLISH),
                    "https://example.com/orders/5", "forged");
            assertThat(forged.statusCode()).as("the right kid, another key").isEqualTo(401);
            assertThat(forged.body()).isEqualTo("bad token signature\n");
        } finally {
            hub.close();
        }
    }

    @Test
    void theHubTakesJwksUrlsFromItsCommandLine(@TempDir Path data) throws Exception {
        serve(a.jwk("key-a"), b.jwk("key-b"));
        try (HubProcess hub = HubProcess.start(data, null, "--publisher-jwks-url", url.toString(), "--subscriber-jwks-url",
                url.toString(), "--anonymous", "false")) {
            URI endpoint = hub.url();
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + b.sign("key-b", PUBLISH))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=x&data=y")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            try (RawHttp subscriber = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=x", "HTTP/1.1",
                    "Authorization: Bearer " + a.sign("key-a", "{}"))) {
                assertThat(subscriber.statusLine).isEqualTo("HTTP/1.1 200 OK");
            }
            try (RawHttp anonymous = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=x", "HTTP/1.1")) {
                assertThat(anonymous.statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
            }
            assertThat(fetches.get()).as("one process, one set per role, fetched at start").isBetween(1, 2);
        }
    }
}
