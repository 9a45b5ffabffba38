package dev.ssekit;

import com.sun.net.httpserver.HttpExchange;
import dev.ssekit.spi.SseTransport;
import java.io.IOException;
import java.util.Objects;

/**
 * Entry points: turn an HTTP exchange into an {@link SseConnection}. This is the Java form of V's
 * {@code veb.sse.start_connection}.
 *
 * <pre>{@code
 * server.createContext("/sse", exchange -> {
 *     SseConnection conn = Sse.start(exchange);
 *     conn.send(SseMessage.builder().event("ping").data("{\"t\":1}").build());
 * });
 * }</pre>
 */
public final class Sse {

    private Sse() {
    }

    /**
     * Starts an event stream on an exchange of the JDK's built-in HTTP server. It sends, and
     * flushes at once, {@code 200} with {@code Content-Type: text/event-stream; charset=utf-8},
     * {@code Cache-Control: no-cache}, {@code X-Accel-Buffering: no} and, for HTTP/1.1, {@code
     * Connection: keep-alive}. The body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0;
     * it is never compressed.
     *
     * <p>The returned connection may be used after the handler returns; the exchange stays open
     * until {@link SseConnection#close()} or a failed write. Give the server an executor of
     * virtual threads ({@code server.setExecutor(Executors.newVirtualThreadPerTaskExecutor())}):
     * with the JDK's default executor a handler that keeps sending blocks every other request.
     *
     * @param exchange the exchange; its response must not have been started
     * @return the open connection
     * @throws IOException if the response head cannot be sent (for example because it was sent
     *     already, or the client is gone); the exchange is closed then
     * @throws NullPointerException if {@code exchange} is null
     */
    public static SseConnection start(HttpExchange exchange) throws IOException {
        return open(JdkTransport.start(Objects.requireNonNull(exchange, "exchange")));
    }

    /**
     * Runs an {@link SseConnection} over an adapter's transport: the one connection state machine
     * every adapter shares.
     *
     * @param transport a transport whose response head has been sent
     * @return the open connection
     * @throws NullPointerException if {@code transport} is null
     */
    public static SseConnection open(SseTransport transport) {
        return new StreamConnection(Objects.requireNonNull(transport, "transport"));
    }
}
