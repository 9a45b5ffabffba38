package dev.ssekit;

/**
 * What a {@link Broadcaster} does when a subscriber's queue of unwritten bytes would exceed its
 * bound. In no case does {@code publish} wait for the subscriber.
 */
public enum SlowConsumerPolicy {
    /**
     * Close the connection ({@link CloseReason#SLOW_CONSUMER}). The client reconnects with its
     * {@code Last-Event-ID} and catches up from history: nothing is lost while history covers the
     * gap. The default.
     */
    DISCONNECT,
    /**
     * Drop the oldest queued events until the new one fits. The client keeps its connection but
     * misses events (it sees a jump in ids); for streams where only recent values matter.
     */
    DROP_OLDEST
}
