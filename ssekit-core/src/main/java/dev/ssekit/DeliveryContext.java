package dev.ssekit;

import dev.ssekit.spi.EventLog;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * What every {@link Subscriber} of a broadcaster shares: the bound on its queue and what happens
 * over it, the clock, the counters, the log its replays read, and how a subscriber leaves (evicted
 * or cancelled). A
 * subscriber holds this instead of its broadcaster. Thread-safe.
 */
final class DeliveryContext {

    final long maxQueuedBytes;
    final SlowConsumerPolicy policy;
    final Ticker ticker;
    /** The broadcaster's log: a replay reads what was appended while it was written. */
    final EventLog log;
    final LongAdder delivered = new LongAdder();
    final LongAdder dropped = new LongAdder();
    private final BiConsumer<Subscriber, CloseReason> leave;

    /**
     * @param leave removes a subscriber from its broadcaster; with a reason other than null it is
     *     also evicted (its connection closed with that reason, off the calling thread)
     */
    DeliveryContext(long maxQueuedBytes, SlowConsumerPolicy policy, Ticker ticker, EventLog log,
            BiConsumer<Subscriber, CloseReason> leave) {
        this.maxQueuedBytes = maxQueuedBytes;
        this.policy = policy;
        this.ticker = ticker;
        this.log = log;
        this.leave = leave;
    }

    void evict(Subscriber s, CloseReason reason) {
        leave.accept(s, reason);
    }

    void cancel(Subscriber s) {
        leave.accept(s, null);
    }
}
