package dev.ssekit;

/** Why a {@link SseConnection} became CLOSED. */
public enum CloseReason {
    /**
     * The application called {@link SseConnection#close()}, or interrupted a thread blocked in
     * {@link SseConnection#send} (the connection is then aborted).
     */
    CLOSED,
    /**
     * A write failed: the client disconnected (or the network failed). This is the ordinary end of
     * most streams and is not logged as an error.
     */
    CLIENT_GONE,
    /**
     * A {@link Broadcaster} evicted the subscriber: its queue of unwritten bytes exceeded the bound
     * ({@link SlowConsumerPolicy#DISCONNECT}).
     */
    SLOW_CONSUMER,
    /** A {@link Broadcaster} evicted the subscriber: one write took longer than the write timeout. */
    WRITE_TIMEOUT,
    /** The {@link Broadcaster} shut down, after sending a final event with a retry hint. */
    SHUTDOWN
}
