package dev.ssekit.client;

import java.io.IOException;

/**
 * Why a connection attempt or an open stream of an {@link EventSource} failed. Each kind is its own
 * type, so callers can tell them apart with {@code instanceof} or a {@code switch}:
 *
 * <ul>
 *   <li>{@link StreamHttpException}: the server answered with a status other than 200;
 *   <li>{@link StreamContentTypeException}: 200, but not {@code text/event-stream};
 *   <li>{@link StreamEndedException}: the server ended a stream normally (clients reconnect);
 *   <li>{@link StreamStalledException}: nothing arrived within the read timeout;
 *   <li>{@link StreamIoException}: the network failed (connection refused, reset, timed out);
 *   <li>{@link StreamTooLargeException}: a line or an event exceeded the builder's {@code
 *       maxEventSize}.
 * </ul>
 *
 * <p>{@link #isRetryable()} says whether the {@link EventSource} reconnects after it.
 */
public abstract sealed class StreamException extends IOException
        permits StreamHttpException, StreamContentTypeException, StreamEndedException, StreamStalledException,
        StreamIoException, StreamTooLargeException {

    private static final long serialVersionUID = 1L;

    StreamException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Whether the {@link EventSource} reconnects after this failure.
     *
     * @return {@code true} when it schedules another attempt
     */
    public abstract boolean isRetryable();
}
