package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP server for the Reactive Streams TCK: {@code /events?n=N} streams N events ({@code
 * id: i}, {@code data: i}) and ends, writing only as fast as the client reads (a huge N streams
 * until the client goes away); a request with {@code Last-Event-ID} (a reconnection) gets 204, so a
 * reconnecting source completes after the N events; {@code /fail} answers 400 with a JSON body.
 */
final class CountingEventServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    CountingEventServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/events", this::events);
        server.createContext("/fail", exchange -> {
            byte[] body = "{\"error\":\"bad request\"}".getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(400, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    URI events(long n) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/events?n=" + n);
    }

    URI fail() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/fail");
    }

    private void events(HttpExchange exchange) throws IOException {
        try (exchange) {
            long n = Long.parseLong(exchange.getRequestURI().getQuery().substring(2));
            if (n == 0 || exchange.getRequestHeaders().containsKey("Last-Event-ID")) {
                exchange.sendResponseHeaders(204, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (long i = 0; i < n; i++) {
                out.write(("id: " + i + "\ndata: " + i + "\n\n").getBytes(UTF_8));
                if (i % 64 == 63 || i == n - 1) {
                    out.flush();
                }
            }
        } catch (IOException gone) {
            // the client cancelled
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
