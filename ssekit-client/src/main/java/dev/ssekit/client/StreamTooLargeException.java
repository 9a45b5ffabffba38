package dev.ssekit.client;

/**
 * The server sent a line, or an event's data, larger than the builder's {@link
 * EventSource.Builder#maxEventSize(int) maxEventSize}: the stream is dropped and the {@link
 * EventSource} closes for good. It does not reconnect, since the server would send the same event
 * again (the last event id has not moved past it).
 */
public final class StreamTooLargeException extends StreamException {

    private static final long serialVersionUID = 1L;

    /** The bound that was exceeded, in bytes. */
    private final int maxEventSize;

    StreamTooLargeException(int maxEventSize, Throwable cause) {
        super("the server sent too much: " + cause.getMessage(), cause);
        this.maxEventSize = maxEventSize;
    }

    /**
     * The bound that was exceeded.
     *
     * @return the builder's {@code maxEventSize}, in bytes
     */
    public int maxEventSize() {
        return maxEventSize;
    }

    @Override
    public boolean isRetryable() {
        return false;
    }
}
