package dev.ssekit;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.ssekit.spi.LastEventIds;
import dev.ssekit.spi.SseTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;

/** {@link SseTransport} over an exchange of the JDK's built-in HTTP server. */
final class JdkTransport implements SseTransport {

    private static final System.Logger LOG = System.getLogger(SseConnection.class.getName());

    private final HttpExchange exchange;
    private final OutputStream body;
    private final Optional<String> lastEventId;

    private JdkTransport(HttpExchange exchange, OutputStream body, Optional<String> lastEventId) {
        this.exchange = exchange;
        this.body = body;
        this.lastEventId = lastEventId;
    }

    static JdkTransport start(HttpExchange exchange) throws IOException {
        Optional<String> lastEventId = lastEventId(exchange.getRequestHeaders());
        Headers h = exchange.getResponseHeaders();
        h.set("Content-Type", "text/event-stream; charset=utf-8");
        h.set("Cache-Control", "no-cache");
        h.set("X-Accel-Buffering", "no");
        if ("HTTP/1.1".equalsIgnoreCase(exchange.getProtocol())) {
            h.set("Connection", "keep-alive");
        }
        try {
            exchange.sendResponseHeaders(200, 0); // 0: unknown length, chunked on HTTP/1.1
            OutputStream body = exchange.getResponseBody();
            body.flush();
            return new JdkTransport(exchange, body, lastEventId);
        } catch (IOException | RuntimeException e) {
            exchange.close();
            throw e;
        }
    }

    static Optional<String> lastEventId(Headers headers) {
        return LastEventIds.fromHeader(headers.getFirst("Last-Event-ID"));
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        body.write(bytes);
        body.flush();
    }

    @Override
    public void write(List<byte[]> frames) throws IOException {
        for (byte[] f : frames) {
            body.write(f); // the response stream buffers: one chunk, one flush, no joined copy
        }
        body.flush();
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing SSE response: {0}", e.toString());
        }
        exchange.close();
    }

    @Override
    public Optional<String> lastEventId() {
        return lastEventId;
    }
}
