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
        return start(exchange, SseOptions.defaults());
    }

    /**
     * {@link #start(HttpExchange)} with settings of its own (write timeout, close grace).
     *
     * <p>The JDK server's API cannot abort an exchange; this adapter aborts a write stuck in the
     * kernel by interrupting the thread blocked in it (the exchange's socket channel is
     * interruptible: the interrupt closes it), then closes the exchange. The interrupt status the
     * abort set is cleared before the write throws.
     *
     * @param exchange the exchange; its response must not have been started
     * @param options the connection's settings
     * @return the open connection
     * @throws IOException if the response head cannot be sent; the exchange is closed then
     * @throws NullPointerException if an argument is null
     */
    public static SseConnection start(HttpExchange exchange, SseOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        return open(JdkTransport.start(Objects.requireNonNull(exchange, "exchange")), options);
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
        return open(transport, SseOptions.defaults());
    }

    /**
     * {@link #open(SseTransport)} with settings of its own (write timeout, close grace).
     *
     * @param transport a transport whose response head has been sent
     * @param options the connection's settings
     * @return the open connection
     * @throws NullPointerException if an argument is null
     */
    public static SseConnection open(SseTransport transport, SseOptions options) {
        return new StreamConnection(Objects.requireNonNull(transport, "transport"), Objects.requireNonNull(options, "options"));
    }
}
