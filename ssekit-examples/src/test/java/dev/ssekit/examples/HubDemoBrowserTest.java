package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's demo page in a real browser, speaking Mercure 1.0: the hub runs as a user starts it (its
 * own JVM, demo mode, which prints a key, an issuer, an audience and RFC 9068 {@code at+jwt} tokens),
 * Chromium opens {@code /}, subscribes with {@code match_urlpattern} (an {@code :id} pattern),
 * publishes from the page's form with the printed publisher token and sees the event arrive; a
 * second page with the printed subscriber token sees the hub's subscription event for the first
 * page's subscription. A raw subscriber ({@code match=}) checks that the page's publish really went
 * through the hub. The screenshot is kept in target/browser/hub-demo.png.
 */
@Timeout(150)
class HubDemoBrowserTest {

    @TempDir
    Path data;

    @Test
    void publishFromThePageAndTheEventAppearsInThePage() throws Exception {
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", data.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process hub = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI page = awaitDemoPage(hub, log);
            String printed = output(log);
            assertThat(printed).contains("issuer:           urn:ssekit:demo\n")
                    .contains("audience:         " + page.toString().replaceAll("/$", "") + "/.well-known/mercure\n");
            String subscriberToken = printedToken(printed, "subscriber token:");
            assertThat(header(subscriberToken)).as("an RFC 9068 access token").contains("\"typ\":\"at+jwt\"");
            assertThat(claims(printedToken(printed, "publisher token:"))).contains("\"iss\":\"urn:ssekit:demo\"")
                    .contains("\"authorization_details\":[{").contains("\"actions\":[\"publish\"]").doesNotContain("\"mercure\"");
            try (RawHttp watcher = RawHttp.get(new InetSocketAddress(page.getHost(), page.getPort()),
                    "/.well-known/mercure?match=" + java.net.URLEncoder.encode("https://example.com/books/7", UTF_8), "HTTP/1.1")) {
                assertThat(watcher.statusLine).isEqualTo("HTTP/1.1 200 OK");

                Path shot = BrowserScripts.screenshot("hub-demo.png");
                String message = "{\"title\":\"Grüße aus Chromium ✓\"}";
                String out = BrowserScripts.run("hub-demo.mjs", page.toString().replaceAll("/$", ""), shot.toString(), message,
                        subscriberToken);

                // what the hub delivered to a subscriber outside the browser: the page's publish, with its id
                SseEvent event = watcher.events(1).getFirst();
                assertThat(event.data()).isEqualTo(message);

                String line = out.lines().filter(l -> l.startsWith("{\"kind\":\"hub-demo\"")).findFirst().orElseThrow();
                Map<String, Object> result = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(line);
                assertThat(result.get("status")).isEqualTo("open");
                assertThat(result.get("published")).isEqualTo("published " + event.id());
                assertThat(result.get("items")).isEqualTo(List.of("[" + event.id() + "] message: " + message));
                // the watcher (subscriber token, match=*): open, and told of the first page's new subscription
                assertThat(result.get("watcherStatus")).isEqualTo("open");
                assertThat(((List<?>) result.get("watched")).stream().map(String::valueOf))
                        .anySatisfy(item -> assertThat(item).contains("https://example.com/books/:id"));
                // a subscription event of the spec's shape, as the page shows it
                assertThat(result.get("rendered")).isEqualTo(Map.of("className", "mercure", "text",
                        "subscription active: urlpattern https://example.com/books/:id (subscriber "
                        + "urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6, payload {\"foo\":\"bar\"})"));
                assertThat(shot).isNotEmptyFile();
            }
        } finally {
            hub.destroy();
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    private static URI awaitDemoPage(Process hub, Path log) throws Exception {
        java.util.Optional<URI> page;
        try {
            // until it printed the address, or stopped (then its output says why)
            page = await("the demo page address").atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(50))
                    .until(() -> Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith("demo page:"))
                            .map(l -> URI.create(l.substring("demo page:".length()).trim())).findFirst(),
                            found -> found.isPresent() || !hub.isAlive());
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            page = java.util.Optional.empty();
        }
        return page.orElseThrow(() -> new AssertionError("the hub printed no demo page address; its output: " + output(log)));
    }

    private static String printedToken(String printed, String label) {
        return printed.lines().filter(l -> l.startsWith(label)).map(l -> l.substring(label.length()).trim()).findFirst()
                .orElseThrow(() -> new AssertionError("no " + label + " line in " + printed));
    }

    private static String header(String jwt) {
        return new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[0]), UTF_8);
    }

    private static String claims(String jwt) {
        return new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), UTF_8);
    }

    private static String output(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
