package dev.ssekit.client;

import java.time.Duration;

/**
 * Nothing (no event, no comment, no byte) arrived within the read timeout; the connection is
 * dropped and the {@link EventSource} reconnects.
 */
public final class StreamStalledException extends StreamException {

    private static final long serialVersionUID = 1L;

    /** The read timeout that elapsed. */
    private final Duration readTimeout;

    StreamStalledException(Duration readTimeout) {
        super("no data for " + readTimeout.toMillis() + " ms (read timeout)", null);
        this.readTimeout = readTimeout;
    }

    /**
     * The read timeout that elapsed.
     *
     * @return the timeout
     */
    public Duration readTimeout() {
        return readTimeout;
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
