package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.TestCertificate;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty EventSources from one Chromium page to the hub over HTTPS: over HTTP/1.1 a browser opens
 * at most six connections to a host and the rest would stall; over HTTP/2 (ALPN) they share one.
 * The hub runs as a user starts it (its own JVM, demo mode, {@code --tls-cert}/{@code --tls-key}
 * with a test certificate); the test publishes one event per topic once the hub counts twenty
 * subscribers, and every stream must get its event over {@code h2} (as Chromium's DevTools protocol
 * reports each EventSource response).
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubHttpsBrowserTest {

    private static final int STREAMS = 20;
    private static final String TOPIC = "https://example.com/streams/";

    @TempDir
    Path dir;

    @Test
    void twentyEventSourcesInOnePageAllReceiveTheirEventsOverHttp2() throws Exception {
        TestCertificate certificate = TestCertificate.create(dir, "hub");
        Path log = dir.resolve("hub.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", dir.resolve("data").toString(),
                "--tls-cert", certificate.certificate().toString(), "--tls-key", certificate.key().toString(),
                "--metrics-token", "metrics-token"); // /metrics is off the public port without it
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process hub = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (HttpClient http = HttpClient.newBuilder().sslContext(certificate.clientContext())
                .connectTimeout(Duration.ofSeconds(10)).build()) {
            Map<String, String> printed = awaitPrinted(hub, log);
            URI url = URI.create(printed.get("ssekit hub on"));
            assertThat(url.getScheme()).isEqualTo("https");
            String base = "https://127.0.0.1:" + url.getPort();

            CompletableFuture<String> browser = CompletableFuture.supplyAsync(() -> {
                try {
                    return BrowserScripts.run("hub-https.mjs", base, Integer.toString(STREAMS), TOPIC);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, command -> Thread.ofVirtual().start(command));

            awaitConnections(http, base, browser, log);
            for (int i = 0; i < STREAMS; i++) {
                String form = "topic=" + URLEncoder.encode(TOPIC + i, UTF_8) + "&data=" + URLEncoder.encode("event " + i, UTF_8);
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/mercure"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + printed.get("publisher token:"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as("publish %d: %s", i, r.body()).isEqualTo(200);
            }

            String out = browser.get(150, TimeUnit.SECONDS);
            String line = out.lines().filter(l -> l.startsWith("{\"kind\":\"hub-https\"")).findFirst().orElseThrow();
            Map<String, Object> result = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(line);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                expected.add("event " + i);
            }
            assertThat((List<?>) result.get("received")).as("what each EventSource received").isEqualTo(expected);
            List<?> protocols = (List<?>) result.get("protocols");
            assertThat(protocols).as("EventSource responses seen by CDP").hasSize(STREAMS);
            for (Object p : protocols) {
                Map<?, ?> response = (Map<?, ?>) p;
                assertThat(response.get("protocol")).as("protocol of %s", response).isEqualTo("h2");
                assertThat(((Number) response.get("status")).intValue()).as("status of %s", response).isEqualTo(200);
            }
        } finally {
            hub.destroy();
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    /** What the hub printed: its URL and the demo publisher token, within 30 s. */
    private static Map<String, String> awaitPrinted(Process hub, Path log) throws Exception {
        Map<String, String> printed;
        try {
            // until it printed both, or stopped (then its output says why)
            printed = await("the hub's URL and token").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                Map<String, String> found = new java.util.HashMap<>();
                for (String l : Files.readAllLines(log, UTF_8)) {
                    for (String key : List.of("ssekit hub on", "publisher token:")) {
                        if (l.startsWith(key)) {
                            found.put(key, l.substring(key.length()).trim().split(" ")[0]);
                        }
                    }
                }
                return found;
            }, found -> found.size() == 2 || !hub.isAlive());
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            printed = Map.of();
        }
        if (printed.size() == 2) {
            return printed;
        }
        throw new AssertionError("the hub printed no URL and token; its output: " + Files.readString(log));
    }

    /** Waits (up to 60 s, or until the browser script ends) until the hub's /metrics counts every stream. */
    private static void awaitConnections(HttpClient http, String base, CompletableFuture<String> browser, Path log) throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> metrics = new java.util.concurrent.atomic.AtomicReference<>("");
        try {
            await("the hub counts every stream").atMost(Duration.ofSeconds(60)).until(() -> {
                metrics.set(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer metrics-token").build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                return metrics.get().contains("\nssekit_connections " + STREAMS + "\n") || browser.isDone();
            });
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            // reported below
        }
        if (metrics.get().contains("\nssekit_connections " + STREAMS + "\n")) {
            return;
        }
        if (browser.isDone()) {
            browser.join(); // the script failed: its error says why
        }
        throw new AssertionError("the hub did not count " + STREAMS + " subscribers within 60 s; /metrics: " + metrics.get()
                + "\nhub output: " + Files.readString(log));
    }
}
