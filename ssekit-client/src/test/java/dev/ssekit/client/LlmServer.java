package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A local streaming API on Jetty, over HTTP/1.1 and h2c on one port, speaking the two styles of LLM
 * streams: {@code /v1/chat/completions} answers chunked {@code data:} JSON ending in {@code data:
 * [DONE]} (OpenAI style); {@code /v1/messages} named events ({@code message_start}, {@code
 * content_block_delta}, an {@code error} in the middle, {@code message_stop}; Anthropic style).
 * {@code /endless} writes an event every 20 ms until the client goes away; {@code /bulk} writes
 * 50 MB of numbered 1 KiB events, counting the bytes written; {@code /status/N} answers status N
 * with a JSON error body ({@code Retry-After: 7} on 429); {@code /html} answers 200 text/html.
 * Every request's method, path, HTTP version and body bytes are recorded.
 */
final class LlmServer implements AutoCloseable {

    /** What a request carried. */
    record Received(String method, String path, String version, byte[] body, String lastEventId) {
    }

    static final String[] CHAT_CHUNKS = {"Hel", "lo, ", "wörld", "!"};
    static final long BULK_BYTES = 50L * 1024 * 1024;

    private final Server server = new Server();
    private final ServerConnector connector;
    final BlockingQueue<Received> requests = new LinkedBlockingQueue<>();
    final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    final CountDownLatch endlessGone = new CountDownLatch(1);
    final AtomicLong bulkWritten = new AtomicLong();

    LlmServer() throws Exception {
        HttpConfiguration config = new HttpConfiguration();
        connector = new ServerConnector(server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                try {
                    serve(request, response);
                    callback.succeeded();
                } catch (Throwable t) {
                    callback.failed(t);
                }
                return true;
            }
        });
        server.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + path);
    }

    int count(String path) {
        return counts.computeIfAbsent(path, p -> new AtomicInteger()).get();
    }

    private void serve(Request request, Response response) throws IOException {
        String path = Request.getPathInContext(request);
        byte[] body = Content.Source.asInputStream(request).readAllBytes();
        requests.add(new Received(request.getMethod(), path, request.getConnectionMetaData().getHttpVersion().asString(), body,
                request.getHeaders().get("Last-Event-ID")));
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        if (path.startsWith("/status/")) {
            int status = Integer.parseInt(path.substring("/status/".length()));
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            if (status == 429) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "7");
            }
            write(response, "{\"error\":{\"type\":\"status_" + status + "\",\"message\":\"refused: ü\"}}", true);
            return;
        }
        if (path.equals("/html")) {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
            write(response, "<html><body>Please log in</body></html>", true);
            return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        switch (path) {
            case "/v1/chat/completions" -> {
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    for (String c : CHAT_CHUNKS) {
                        out.write(("data: {\"choices\":[{\"delta\":{\"content\":\"" + c + "\"}}]}\n\n").getBytes(UTF_8));
                        out.flush();
                    }
                    out.write("data: [DONE]\n\n".getBytes(UTF_8));
                }
            }
            case "/v1/messages" -> {
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    out.write("event: message_start\ndata: {\"type\":\"message_start\"}\n\n".getBytes(UTF_8));
                    out.write("event: content_block_delta\ndata: {\"delta\":{\"text\":\"Hi\"}}\n\n".getBytes(UTF_8));
                    out.flush();
                    out.write("event: error\ndata: {\"type\":\"overloaded_error\"}\n\n".getBytes(UTF_8));
                    out.write("event: content_block_delta\ndata: {\"delta\":{\"text\":\" there\"}}\n\n".getBytes(UTF_8));
                    out.write("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".getBytes(UTF_8));
                }
            }
            case "/endless" -> {
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    for (int i = 0; i < 3000; i++) { // bounded: 60 s
                        out.write(("id: " + i + "\ndata: tick " + i + "\n\n").getBytes(UTF_8));
                        out.flush();
                        Thread.sleep(20);
                    }
                } catch (IOException gone) {
                    endlessGone.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            case "/bulk" -> {
                String pad = "x".repeat(1000);
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    long written = 0;
                    for (int i = 0; written < BULK_BYTES; i++) {
                        byte[] e = ("data: " + i + " " + pad + "\n\n").getBytes(UTF_8);
                        out.write(e);
                        out.flush();
                        written += e.length;
                        bulkWritten.set(written);
                    }
                } catch (IOException gone) {
                    // the client went away
                }
            }
            default -> {
                response.setStatus(404);
                write(response, "", true);
            }
        }
    }

    private static void write(Response response, String text, boolean last) throws IOException {
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(text.getBytes(UTF_8));
        }
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("Jetty did not stop", e);
        }
    }
}
