package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's "Streaming APIs" samples, run against real servers. */
@Timeout(60)
class StreamingApiSampleTest {

    @Test
    void readsAnOpenAiStyleStreamUntilDone() throws Exception {
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/chat/completions", exchange -> {
            requests.incrementAndGet();
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Authorization") + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (String c : List.of("Hel", "lo")) {
                    out.write(("data: {\"choices\":[{\"delta\":{\"content\":\"" + c + "\"}}]}\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
                out.write("data: [DONE]\n\ndata: not read\n\n".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.start();
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            StreamingApiSample.main(new String[] {"http://127.0.0.1:" + server.getAddress().getPort(), "sk-test"});
        } finally {
            System.setOut(stdout);
            server.stop(0);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", "{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}");
        assertThat(seen).containsExactly("POST Bearer sk-test {\"model\": \"gpt-4o-mini\", \"stream\": true, \"messages\":"
                + " [{\"role\": \"user\", \"content\": \"Hi\"}]}");
        assertThat(requests.get()).isEqualTo(1);
    }

    @Test
    void aReactorFluxFromPublisher() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/clock", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                for (int i = 0; i < 100; i++) {
                    sse.send(SseMessage.builder().id("" + i).event(i % 2 == 0 ? "tick" : "tock").data("t" + i).build());
                }
            } catch (IOException clientLeft) {
                // the sample cancels after five ticks
            }
        });
        server.start();
        try {
            List<String> ticks = ReactorSample.firstFive(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/clock"));
            assertThat(ticks).containsExactly("0: t0", "2: t2", "4: t4", "6: t6", "8: t8");
        } finally {
            server.stop(0);
        }
    }
}
