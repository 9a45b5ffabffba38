package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The blocking adapter behind {@link EventSource#events()}: a listener that puts events into a
 * bounded queue (256) and an iterator that takes them out. When the queue is full the listener
 * waits, which holds the connection unread (back-pressure) until the consumer catches up or the
 * source closes.
 *
 * <p>Contract: the iterator ends after {@code onClosed} with no failure, and throws {@link
 * UncheckedIOException} wrapping the {@link StreamException} once when the source failed; an
 * interrupted consumer closes the source and ends. Thread-safety: the listener side is called by
 * the source's serial callbacks, one call at a time; the iterator side is for one consumer thread.
 */
final class BlockingEvents implements EventSourceListener, Iterator<SseEvent> {
    private static final Object END = new Object();
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(256);
    private volatile Optional<StreamException> failure;
    private volatile boolean ended;
    private Object next;
    private final BooleanSupplier closing;
    private final Runnable close;

    /**
     * @param closing whether the source is closing: a waiting {@code onEvent} then gives up
     * @param close closes the source (when the consumer is interrupted)
     */
    BlockingEvents(BooleanSupplier closing, Runnable close) {
        this.closing = closing;
        this.close = close;
    }

    @Override
    public void onEvent(SseEvent event) {
        try {
            while (!queue.offer(event, 50, TimeUnit.MILLISECONDS)) {
                if (closing.getAsBoolean()) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void onClosed(Optional<StreamException> failure) {
        this.failure = failure;
        ended = true;
        queue.offer(END); // the consumer only blocks on an empty queue, so there is room then
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            Object o = queue.poll();
            if (o == null) {
                if (ended) {
                    o = END;
                } else {
                    try {
                        o = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        close.run();
                        o = END;
                    }
                }
            }
            next = o;
        }
        if (next == END) {
            Optional<StreamException> f = failure;
            if (f != null && f.isPresent()) {
                next = null;
                failure = Optional.empty();
                throw new UncheckedIOException(f.get());
            }
            return false;
        }
        return true;
    }

    @Override
    public SseEvent next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        SseEvent e = (SseEvent) next;
        next = null;
        return e;
    }
}
