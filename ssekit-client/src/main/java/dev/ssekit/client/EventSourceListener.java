package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.net.http.HttpResponse;
import java.util.Optional;

/**
 * Receives what an {@link EventSource} sees. Calls are made one at a time, in order, never
 * concurrently: {@code onOpen}, then events and comments, then {@code onError} when the stream
 * breaks; again from {@code onOpen} after each reconnection; and finally exactly one {@link
 * #onClosed}, after which nothing more is called.
 *
 * <p>Callbacks run on the source's own callback executor (by default a virtual thread of the
 * source's; see {@link EventSource.Builder#callbackExecutor}), never on a thread of the HTTP
 * client or of {@code ForkJoinPool.commonPool}. While a callback runs, the stream does not read
 * further: a slow listener slows the sender down (TCP back-pressure) instead of piling events up in
 * memory, and the time it takes does not count as server silence for the read timeout. A callback
 * may call {@link EventSource#close()}. An exception a callback throws is logged and ignored.
 */
public interface EventSourceListener {

    /**
     * A connection is open: the server answered 200 with {@code text/event-stream}.
     *
     * @param response the status, headers and HTTP version
     */
    default void onOpen(HttpResponse.ResponseInfo response) {
    }

    /**
     * An event arrived.
     *
     * @param event its last event id, type and data
     */
    void onEvent(SseEvent event);

    /**
     * A comment line arrived (servers send them as heartbeats).
     *
     * @param comment the text after the colon, one leading space removed
     */
    default void onComment(String comment) {
    }

    /**
     * A connection attempt or an open stream failed. If {@link StreamException#isRetryable()} the
     * {@link EventSource} reconnects after a delay; otherwise {@link #onClosed} follows.
     *
     * @param error what failed
     */
    default void onError(StreamException error) {
    }

    /**
     * The {@link EventSource} is CLOSED and will not reconnect. Called exactly once.
     *
     * @param failure empty when it was closed by {@link EventSource#close()} or the server answered
     *     204 No Content (its way to say "stop"); otherwise the error that ended it: a fatal one,
     *     or the last of {@code maxAttempts} failed attempts
     */
    void onClosed(Optional<StreamException> failure);
}
