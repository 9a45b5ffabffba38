package hello;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.SseMessage;
import dev.ssekit.client.EventSource;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * An SSE server on the JDK's HTTP server (a free loopback port) sends one event; an
 * {@link EventSource} receives it. Prints it and exits 0; exits 1 if it differs or does not come
 * within 30 seconds.
 */
public final class Hello {
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/hello", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                sse.send(SseMessage.builder().id("1").event("greeting").data("hello, ssekit").build());
            }
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hello");
        SseEvent event;
        // resources close in reverse order: the source first (that ends the stream), then the reader
        try (ExecutorService reader = Executors.newVirtualThreadPerTaskExecutor();
                EventSource source = EventSource.builder(uri).build()) {
            Future<SseEvent> first = reader.submit(() -> source.events().findFirst().orElseThrow());
            event = first.get(30, TimeUnit.SECONDS);
        } finally {
            server.stop(0);
        }
        System.out.println("hello-ssekit: received event '" + event.type() + "' id " + event.id()
                + ": " + event.data());
        if (!event.equals(new SseEvent("1", "greeting", "hello, ssekit"))) {
            System.err.println("hello-ssekit: expected id 1, type greeting, data 'hello, ssekit'");
            System.exit(1);
        }
    }
}
