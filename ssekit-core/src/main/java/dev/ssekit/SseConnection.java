package dev.ssekit;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One open event stream to one client: the Java form of V's {@code veb.sse.SSEConnection}.
 *
 * <p>A connection is OPEN from the moment {@link Sse#start} returns it until it becomes CLOSED,
 * exactly once, for one {@link CloseReason}: the application called {@link #close()}, or a write
 * failed because the client went away. Close listeners then run once each with that reason.
 *
 * <p>Thread-safe: {@link #send} and {@link #comment} may be called from many threads at once; each
 * call writes its bytes whole, never interleaved with another's. Writes block the calling thread
 * until the bytes reached the socket, so call them from virtual threads (or any thread that may
 * block); a write the socket does not take within the connection's write timeout ({@link
 * SseOptions#writeTimeout()}, 30 s by default) aborts the connection and throws. The implementation
 * takes no monitor ({@code synchronized}) on the write path.
 */
public interface SseConnection extends AutoCloseable {

    /**
     * Sends one event and returns once its bytes have been handed to the socket.
     *
     * @param message the event
     * @throws IOException at once if the connection is closed or closing; if the write failed (a
     *     failed write closes the connection with {@link CloseReason#CLIENT_GONE}, and a container's
     *     own exception is the cause); or if the socket did not take the bytes within the write
     *     timeout (the connection is then aborted: {@link CloseReason#WRITE_TIMEOUT}). An {@link
     *     java.io.InterruptedIOException} if the calling thread is interrupted: at once, without
     *     writing, when its interrupt status is set on entry (the connection stays open); or when
     *     the thread is interrupted while blocked in the write and the server gives it up (the
     *     connection is then aborted: {@link CloseReason#CLOSED}). The interrupt status is set when
     *     either is thrown. (Tomcat's write swallows such an interrupt or reports a plain failure:
     *     there it counts as {@link CloseReason#CLIENT_GONE}.)
     * @throws NullPointerException if {@code message} is null
     */
    void send(SseMessage message) throws IOException;

    /**
     * Sends a comment: lines starting with {@code :} that clients ignore. Useful as a heartbeat
     * that keeps proxies from closing an idle stream. Line breaks in the text start new comment
     * lines; an empty text sends a lone {@code :}.
     *
     * @param text the comment
     * @throws IOException as {@link #send} does
     * @throws NullPointerException if {@code text} is null
     */
    void comment(String text) throws IOException;

    /**
     * Sends the final {@code close} event ({@code event: close}, {@code data: Closing the
     * connection}) as V's {@code veb.sse} does, then ends the response; without the event when the
     * connection's options turn it off ({@link SseOptions.Builder#closeEvent(boolean)}). Idempotent;
     * never throws.
     * When the client is already gone the event is skipped and the reason stays what it was.
     * Bounded whatever the client does: if another thread's write holds on for longer than the
     * close grace ({@link SseOptions#closeGrace()}, 1 s by default), or the event is not written
     * within it, the connection is aborted (the TCP connection is closed without a graceful end,
     * and a writer blocked in it gets {@link IOException}); the graceful end of the response gets
     * the close grace again. So {@code close()} returns within about twice the close grace plus the
     * time the close listeners take. From its start on, {@link #send} and {@link #comment} throw
     * {@link IOException} at once.
     */
    @Override
    void close();

    /**
     * Whether the connection is still OPEN. A client that vanished is only noticed when a write
     * fails, so this may be {@code true} for a dead peer until the next send.
     *
     * @return {@code true} until the connection is CLOSED
     */
    boolean isOpen();

    /**
     * Registers a listener that runs once, when the connection becomes CLOSED, on the thread that
     * closed it. If the connection is already closed it runs at once on the calling thread. An
     * exception it throws is logged and does not affect the connection or the other listeners.
     *
     * @param listener receives the reason
     * @throws NullPointerException if {@code listener} is null
     */
    void onClose(Consumer<CloseReason> listener);

    /**
     * The {@code Last-Event-ID} the client sent with its request (UTF-8 decoded): the id of the
     * last event it received before it reconnected.
     *
     * @return the id, or empty when the header was absent or empty
     */
    Optional<String> lastEventId();
}
