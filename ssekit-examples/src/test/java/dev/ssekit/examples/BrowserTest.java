package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo page in a real browser: Debian's headless Chromium, driven by playwright-core (npm,
 * installed by the build into src/test/browser). A screenshot is kept in
 * target/browser/clock-page.png.
 */
@Timeout(120)
class BrowserTest {

    static final String UNICODE_DATA = "Grüße, 世界 😀\nzweite Zeile\r\ndritte Zeile\rvierte: ünï";

    @Test
    void chromiumShowsTheEventsAndReceivesMultiLineUnicodeIntact() throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        assertThat(Files.isExecutable(chromium))
                .as("Chromium at %s (bin/test installs Debian's chromium; or set CHROMIUM)", chromium).isTrue();
        Path scripts = Path.of("src/test/browser").toAbsolutePath();
        assertThat(scripts.resolve("node_modules/playwright-core")).as("npm ci ran in %s", scripts).isDirectory();

        HttpServer server = ClockServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofMillis(200));
        server.createContext("/sse-unicode", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                sse.send(SseMessage.builder().id("é-1").event("greeting").data(UNICODE_DATA).build());
            }
        });
        try {
            Path shot = Path.of("target/browser/clock-page.png").toAbsolutePath();
            Files.createDirectories(shot.getParent());
            Files.deleteIfExists(shot);
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Process node = new ProcessBuilder("node", "clock-page.mjs", base, shot.toString())
                    .directory(scripts.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            boolean finished = node.waitFor(90, TimeUnit.SECONDS);
            if (!finished) {
                node.destroyForcibly();
            }
            String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(finished).as("browser script finished; output so far: %s", out).isTrue();
            assertThat(node.exitValue()).as("browser script exit code; output: %s", out).isZero();

            List<String> lines = out.lines().toList();
            String pageLine = lines.stream().filter(l -> l.startsWith("{\"kind\":\"page\"")).findFirst().orElseThrow();
            assertThat(pageLine).contains("\"status\":\"connected\"");
            assertThat(pageLine).contains("\"items\":[\"message: ok\",\"ping: ");
            assertThat(pageLine).containsPattern("\"ping: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [0-9A-HJKMNP-TV-Z]{26}\"");

            String unicodeLine = lines.stream().filter(l -> l.startsWith("{\"kind\":\"unicode\"")).findFirst().orElseThrow();
            // JSON.stringify in the page: every line break the server sent reads back as \n
            assertThat(unicodeLine).isEqualTo("{\"kind\":\"unicode\",\"type\":\"greeting\","
                    + "\"data\":\"Grüße, 世界 😀\\nzweite Zeile\\ndritte Zeile\\nvierte: ünï\",\"lastEventId\":\"é-1\"}");
            assertThat(shot).isNotEmptyFile();
        } finally {
            server.stop(0);
        }
    }

}
