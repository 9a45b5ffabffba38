package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ClockServerTest {

    private HttpServer server;
    private HttpClient http;

    @BeforeEach
    void start() throws Exception {
        server = ClockServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofMillis(50));
        http = HttpClient.newHttpClient();
    }

    @AfterEach
    void stop() {
        http.close();
        server.stop(0);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    @Test
    void streamSendsOkThenPingsWithTimeAndUlid() throws Exception {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri("/sse")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).contains("text/event-stream; charset=utf-8");
        List<SseEvent> events = new ArrayList<>();
        SseParser parser = SseParser.create(events::add);
        byte[] buf = new byte[4096];
        try (InputStream in = r.body()) {
            while (events.size() < 4) {
                int n = in.read(buf);
                assertThat(n).as("stream still open").isPositive();
                parser.feed(buf, 0, n);
            }
        }
        assertThat(events.getFirst()).isEqualTo(new SseEvent("", "message", "ok"));
        for (SseEvent ping : events.subList(1, 4)) {
            assertThat(ping.type()).isEqualTo("ping");
            assertThat(ping.data()).matches(
                    "\\{\"time\": \"\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\", \"random_id\": \"[0-9A-HJKMNP-TV-Z]{26}\"}");
        }
    }

    @Test
    void indexPageUsesEventSource() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
        assertThat(r.body()).contains("new EventSource('/sse')").contains("addEventListener('ping'");
        assertThat(http.send(HttpRequest.newBuilder(uri("/nothing-here")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
    }

    @Test
    void ulidsAreWellFormedAndDistinct() {
        String a = ClockServer.ulid();
        String b = ClockServer.ulid();
        assertThat(a).matches("[0-9A-HJKMNP-TV-Z]{26}").isNotEqualTo(b);
    }

    @Test
    void listenAddressIsValidatedWithTheSettingName() throws Exception {
        assertThat(ClockServer.listenAddress("--listen", "127.0.0.1:9000").getPort()).isEqualTo(9000);
        assertThat(ClockServer.listenAddress("--listen", "[::1]:9000").getAddress()).isEqualTo(java.net.InetAddress.getByName("::1"));
        assertThatThrownBy(() -> ClockServer.listenAddress("--listen", "localhost"))
                .hasMessage("--listen must be HOST:PORT, got \"localhost\"");
        assertThatThrownBy(() -> ClockServer.listenAddress("SSEKIT_LISTEN", "h:http"))
                .hasMessage("SSEKIT_LISTEN has a port that is not a number: \"h:http\"");
        assertThatThrownBy(() -> ClockServer.listenAddress("--listen", "h:70000"))
                .hasMessage("--listen has a port outside 0-65535: \"h:70000\"");
    }
}
