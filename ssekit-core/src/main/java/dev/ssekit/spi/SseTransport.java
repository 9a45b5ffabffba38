package dev.ssekit.spi;

import java.io.IOException;
import java.util.Optional;

/**
 * What a server adapter (JDK HttpServer, Servlet, Netty) provides so that core can run an {@link
 * dev.ssekit.SseConnection} over it with {@link dev.ssekit.Sse#open(SseTransport)}.
 *
 * <p>The adapter has sent the response head (status 200 and the event-stream headers) before it
 * hands the transport to core. Core serializes calls: {@link #write} is never called by two
 * threads at once, and {@link #close()} is called exactly once, after which no write follows.
 */
public interface SseTransport {

    /**
     * Writes the bytes and flushes them to the network; returns when the socket has taken them.
     *
     * @param bytes encoded event stream bytes; the array must not be kept after the call returns
     * @throws IOException if the write fails (for example because the client went away)
     */
    void write(byte[] bytes) throws IOException;

    /**
     * Ends the response and releases the connection. Must not throw; failures are the adapter's to
     * log at debug level.
     */
    void close();

    /**
     * Registers what to run when the adapter learns that the client went away without a failed
     * write (the peer closed the socket, the container reported an error). Core registers one
     * action right after {@link dev.ssekit.Sse#open}; it moves the connection to CLOSED with
     * {@link dev.ssekit.CloseReason#CLIENT_GONE}. The adapter must run it at most once and never
     * on an event loop thread (it runs user close listeners). The default never runs it: such a
     * transport notices a gone client only when a write fails.
     *
     * @param action the action
     */
    default void onPeerClosed(Runnable action) {
    }

    /**
     * The request's {@code Last-Event-ID} header, decoded as UTF-8.
     *
     * @return the id, or empty when absent or empty
     */
    Optional<String> lastEventId();
}
