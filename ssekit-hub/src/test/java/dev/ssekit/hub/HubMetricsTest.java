package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #28, item 5: {@code /metrics} is off the public port by default; it is served on a listener
 * of its own ({@code --metrics-listen}), or on the public port to a bearer of the metrics token.
 */
@Timeout(30)
class HubMetricsTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private MercureHub hub;

    @AfterEach
    void stop() {
        http.close();
        if (hub != null) {
            hub.close();
        }
    }

    private static HubConfig config() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        return new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of("*"), 1024, 10, 10, false, false, "",
                Duration.ofSeconds(10), Optional.empty());
    }

    private HttpResponse<String> get(InetSocketAddress at, String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePublicPortDoesNotServeMetricsByDefault() throws Exception {
        hub = MercureHub.start(config(), Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
        HttpResponse<String> r = get(hub.address(), "/metrics");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).doesNotContain("ssekit_published_total");
        assertThat(get(hub.address(), "/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void aListenerOfItsOwnServesThem() throws Exception {
        hub = MercureHub.start(config().withLimits(HubConfig.Limits.DEFAULT.withMetrics(
                Optional.of(new InetSocketAddress("127.0.0.1", 0)), Optional.empty())), Broadcaster.create(), Scheduler.system(),
                Clock.systemUTC());
        InetSocketAddress metrics = hub.metricsAddress().orElseThrow();
        assertThat(metrics.getPort()).isNotEqualTo(hub.address().getPort());
        HttpResponse<String> r = get(metrics, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("# TYPE ssekit_published_total counter\nssekit_published_total 0\n");
        assertThat(r.headers().firstValue("content-type")).contains("text/plain; version=0.0.4; charset=utf-8");
        assertThat(get(metrics, "/healthz").statusCode()).isEqualTo(404);
        assertThat(get(hub.address(), "/metrics").statusCode()).isEqualTo(404);
    }

    @Test
    void thePublicPortServesThemToTheBearerOfTheMetricsToken() throws Exception {
        hub = MercureHub.start(config().withLimits(HubConfig.Limits.DEFAULT.withMetrics(Optional.empty(), Optional.of("s3cret-metrics"))),
                Broadcaster.create(), Scheduler.system(), Clock.systemUTC());
        assertThat(get(hub.address(), "/metrics").statusCode()).isEqualTo(404);
        assertThat(get(hub.address(), "/metrics", "Authorization", "Bearer wrong").statusCode()).isEqualTo(404);
        HttpResponse<String> r = get(hub.address(), "/metrics", "Authorization", "Bearer s3cret-metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("ssekit_published_total 0\n");
    }

    @Test
    void theHubProcessPrintsWhereItServesThem() throws Exception {
        java.nio.file.Path data = java.nio.file.Files.createTempDirectory("metrics");
        try (HubProcess p = HubProcess.start(data, "0123456789abcdef0123456789abcdef", "--metrics-listen", "127.0.0.1:0")) {
            // printed just after the line HubProcess waits for
            String line = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                    () -> java.nio.file.Files.readAllLines(p.log()).stream().filter(l -> l.startsWith("metrics:")).findFirst(),
                    Optional::isPresent).orElseThrow();
            URI uri = URI.create(line.substring("metrics:".length()).trim());
            assertThat(http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .contains("ssekit_connections 0\n");
            assertThat(get(p.address(), "/metrics").statusCode()).isEqualTo(404);
        }
    }
}
