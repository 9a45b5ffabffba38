package dev.ssekit;

import dev.ssekit.codec.SseEncoder;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The one timer that keeps every subscriber of a broadcaster alive or gets rid of it: every
 * {@code min(heartbeat, writeTimeout) / 2} it sends a {@code :} comment to subscribers idle for
 * {@code heartbeat}, and evicts those whose write has run longer than {@code writeTimeout} (a
 * client that stopped reading, or vanished). No timer per connection. Thread-safe.
 */
final class LivenessSweep {

    private static final byte[] HEARTBEAT = SseEncoder.comment("");

    private final Scheduler scheduler;
    private final Ticker ticker;
    private final long heartbeatNanos;
    private final long writeTimeoutNanos;
    private final Duration period;
    private final Supplier<Collection<Subscriber>> subscribers;
    private final DeliveryContext delivery;
    private volatile boolean stopped;
    private volatile Future<?> next;

    LivenessSweep(Scheduler scheduler, Ticker ticker, Duration heartbeat, Duration writeTimeout,
            Supplier<Collection<Subscriber>> subscribers, DeliveryContext delivery) {
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.heartbeatNanos = heartbeat.toNanos();
        this.writeTimeoutNanos = writeTimeout.toNanos();
        this.period = (heartbeat.compareTo(writeTimeout) < 0 ? heartbeat : writeTimeout).dividedBy(2);
        this.subscribers = subscribers;
        this.delivery = delivery;
    }

    void start() {
        next = scheduler.schedule(this::sweep, period);
    }

    /** No sweep after this one returns (one already running finishes). */
    void stop() {
        stopped = true;
        Future<?> f = next;
        if (f != null) {
            f.cancel(false);
        }
    }

    private void sweep() {
        if (stopped) {
            return;
        }
        long now = ticker.read();
        for (Subscriber s : subscribers.get()) {
            long started = s.writeStartedAt;
            if (started != 0 && now - started >= writeTimeoutNanos) {
                delivery.evict(s, CloseReason.WRITE_TIMEOUT);
            } else if (now - s.lastWriteAt >= heartbeatNanos && s.idle()) {
                s.offerControl(HEARTBEAT, false);
            }
        }
        next = scheduler.schedule(this::sweep, period);
    }
}
