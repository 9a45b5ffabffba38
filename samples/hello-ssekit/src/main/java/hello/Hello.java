package hello;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * One dependency, {@code ssekit-core}: an SSE server on the JDK's HTTP server (a free loopback port)
 * sends one event, and the codec core brings along parses it from a plain {@code java.net.http}
 * response. Prints it and exits 0; exits 1 if it differs; gives up after 30 seconds.
 */
public final class Hello {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/hello", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                sse.send(SseMessage.builder().id("1").event("greeting").data("hello, ssekit").build());
            } // close() sends the final `close` event and ends the stream
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hello");
        List<SseEvent> events = new ArrayList<>();
        SseParser parser = SseParser.create(new SseParser.Handler() {
            @Override
            public void onEvent(SseEvent event) {
                events.add(event);
            }
        });
        try (HttpClient http = HttpClient.newHttpClient();
                InputStream body = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofInputStream()).body()) {
            byte[] buffer = new byte[8192];
            for (int n; events.isEmpty() && (n = body.read(buffer)) >= 0;) {
                parser.feed(buffer, 0, n);
            }
        } finally {
            server.stop(0);
        }
        SseEvent event = events.isEmpty() ? null : events.getFirst();
        System.out.println("hello-ssekit: received " + event);
        if (!new SseEvent("1", "greeting", "hello, ssekit").equals(event)) {
            System.err.println("hello-ssekit: expected id 1, type greeting, data 'hello, ssekit'");
            System.exit(1);
        }
    }
}
