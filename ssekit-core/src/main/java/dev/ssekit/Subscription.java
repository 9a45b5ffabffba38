package dev.ssekit;

import java.util.List;

/**
 * A connection's membership in a {@link Broadcaster}. It ends by itself when the connection
 * closes. Thread-safe.
 */
public interface Subscription {

    /**
     * The subscribed connection.
     *
     * @return the connection
     */
    SseConnection connection();

    /**
     * The selectors this subscription receives.
     *
     * @return an immutable list
     */
    List<TopicSelector> selectors();

    /**
     * Bytes queued for this subscriber and not yet handed to its connection.
     *
     * @return the byte count
     */
    long queuedBytes();

    /**
     * Leaves the broadcaster without closing the connection; events not yet written are dropped.
     * Idempotent.
     */
    void cancel();
}
