package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link Flow.Publisher} of {@link EventSource#publisher()}: a listener whose {@code onEvent}
 * waits (on the source's callback thread, a virtual thread by default) until the subscriber has
 * demand, then calls {@code onNext}. While it waits the source does not read its socket, so a slow
 * subscriber stalls the server and no queue grows; the wait does not count as silence for the read
 * timeout. Reconnections are invisible to the subscriber; {@code onClosed} ends it: with no
 * failure (204, {@code close()}) {@code onComplete}, with one {@code onError}. {@code cancel()}
 * closes the source.
 *
 * <p>Contract: Reactive Streams 1.0 (checked by the TCK's {@code FlowPublisherVerification}): one
 * subscriber; {@code onSubscribe} before anything else; {@code onNext}, {@code onError} and {@code
 * onComplete} come from the source's serial callbacks, one at a time; {@code request(n <= 0)}
 * closes the source and signals {@code onError(IllegalArgumentException)}; nothing is signalled
 * after {@code cancel()}. Thread-safe.
 */
final class SourcePublisher implements Flow.Publisher<SseEvent>, Flow.Subscription, EventSourceListener {
    private static final System.Logger LOG = System.getLogger(EventSource.class.getName());
    private final EventSource source;
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition demanded = lock.newCondition();
    private volatile Flow.Subscriber<? super SseEvent> subscriber;
    private long demand;
    private volatile boolean cancelled;
    private volatile IllegalArgumentException invalidRequest;

    /**
     * @param source the source to start at subscription; not started yet
     */
    SourcePublisher(EventSource source) {
        this.source = source;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super SseEvent> s) {
        Objects.requireNonNull(s, "subscriber");
        if (!subscribed.compareAndSet(false, true)) {
            ResponseEventPublisher.refuse(s, "an EventSource publisher takes one subscriber only");
            return;
        }
        subscriber = s;
        try {
            s.onSubscribe(this);
        } catch (RuntimeException | Error e) {
            subscriberThrew(e, "onSubscribe");
            return;
        }
        try {
            source.start(this); // after onSubscribe: every other signal comes from the callbacks
        } catch (IllegalStateException started) {
            if (!cancelled) {
                s.onError(started);
            }
        }
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            invalidRequest = new IllegalArgumentException("request(" + n + "): demand must be positive (Reactive Streams 3.9)");
            source.close(); // onClosed then signals the error, serially with onNext
            return;
        }
        lock.lock();
        try {
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            demanded.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        subscriber = null; // Reactive Streams 3.13: drop the subscriber
        source.close();
        lock.lock();
        try {
            demanded.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onEvent(SseEvent event) {
        lock.lock();
        try {
            while (demand == 0) {
                if (cancelled || source.closedByUser || source.failedForGood()) {
                    // closed, or failed for good: onError needs no demand. After a 204 the events
                    // still wait for demand, then onComplete
                    return;
                }
                demanded.awaitNanos(50_000_000L); // and check again: close() does not signal this lock
            }
            demand--;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } finally {
            lock.unlock();
        }
        Flow.Subscriber<? super SseEvent> s = subscriber;
        if (!cancelled && s != null) {
            try {
                s.onNext(event);
            } catch (RuntimeException | Error e) {
                subscriberThrew(e, "onNext");
            }
        }
    }

    /**
     * Reactive Streams 2.13: a subscriber that throws has its subscription cancelled (the source
     * closed); the throw is logged, since no signal may reach that subscriber any more.
     */
    private void subscriberThrew(Throwable e, String signal) {
        cancel();
        LOG.log(System.Logger.Level.WARNING, "Flow.Subscriber threw from " + signal
                + " (Reactive Streams 2.13); its subscription is cancelled and the source closed", e);
    }

    @Override
    public void onClosed(Optional<StreamException> failure) {
        Flow.Subscriber<? super SseEvent> s = subscriber;
        subscriber = null;
        if (cancelled || s == null) {
            return;
        }
        IllegalArgumentException invalid = invalidRequest;
        if (invalid != null) {
            s.onError(invalid);
        } else if (failure.isPresent()) {
            s.onError(failure.get());
        } else {
            s.onComplete();
        }
    }
}
