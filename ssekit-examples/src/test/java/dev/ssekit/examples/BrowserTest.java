package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        HttpServer server = ClockServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofMillis(200));
        server.createContext("/sse-unicode", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                sse.send(SseMessage.builder().id("é-1").event("greeting").data(UNICODE_DATA).build());
            }
        });
        try {
            Path shot = BrowserScripts.screenshot("clock-page.png");
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            String out = BrowserScripts.run("clock-page.mjs", base, shot.toString());

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
