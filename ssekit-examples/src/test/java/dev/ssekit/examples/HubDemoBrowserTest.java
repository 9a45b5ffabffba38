package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.SseEvent;
import dev.ssekit.SseParser;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's demo page in a real browser: the hub runs as a user starts it (its own JVM, demo mode),
 * Chromium opens {@code /}, subscribes, publishes from the page's form and sees the event arrive. A
 * raw subscriber checks that the page's publish really went through the hub. The screenshot is
 * kept in target/browser/hub-demo.png.
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
            try (RawHttp watcher = RawHttp.get(new InetSocketAddress(page.getHost(), page.getPort()),
                    "/.well-known/mercure?topic=" + java.net.URLEncoder.encode("https://example.com/books/7", UTF_8), "HTTP/1.1")) {
                assertThat(watcher.statusLine).isEqualTo("HTTP/1.1 200 OK");

                Path shot = BrowserScripts.screenshot("hub-demo.png");
                String message = "{\"title\":\"Grüße aus Chromium ✓\"}";
                String out = BrowserScripts.run("hub-demo.mjs", page.toString().replaceAll("/$", ""), shot.toString(), message);

                // what the hub delivered to a subscriber outside the browser: the page's publish, with its id
                List<SseEvent> got = new ArrayList<>();
                SseParser parser = SseParser.create(got::add);
                while (got.isEmpty()) {
                    parser.feed(watcher.readEvent().getBytes(UTF_8));
                }
                SseEvent event = got.getFirst();
                assertThat(event.data()).isEqualTo(message);

                String line = out.lines().filter(l -> l.startsWith("{\"kind\":\"hub-demo\"")).findFirst().orElseThrow();
                assertThat(line).contains("\"status\":\"open\"")
                        .contains("\"published\":\"published " + event.id() + "\"")
                        .contains("\"items\":[\"[" + event.id() + "] message: {\\\"title\\\":\\\"Grüße aus Chromium ✓\\\"}\"]");
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && hub.isAlive()) {
            for (String l : Files.readAllLines(log, UTF_8)) {
                if (l.startsWith("demo page:")) {
                    return URI.create(l.substring("demo page:".length()).trim());
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the hub printed no demo page address; its output: " + Files.readString(log));
    }
}
