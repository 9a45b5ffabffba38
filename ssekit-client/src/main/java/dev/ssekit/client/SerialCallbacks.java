package dev.ssekit.client;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The serial callback executor of an {@link EventSource}: runs listener callbacks one at a time, in
 * submission order, never concurrently, and none after {@link #finish}. Always on an executor of
 * the source's own (by default a new virtual thread per drain), never on the submitting thread:
 * submitting never blocks and never waits for a running callback, so no pool thread of the HTTP
 * client or of {@code ForkJoinPool.commonPool} runs or waits for a listener, and {@link #finish}
 * (called by {@code close()}) returns at once.
 *
 * <p>Contract: a callback that throws is logged and ignored, so one listener bug never stops the
 * stream. {@link #add} and {@link #takeBatch} are called only under the source's parser lock (the
 * batch is not thread-safe by itself); {@link #flush}, {@link #run} and {@link #finish} are
 * thread-safe and return at once.
 */
final class SerialCallbacks {

    private static final System.Logger LOG = System.getLogger(EventSource.class.getName());

    private final Executor executor;
    private final BooleanSupplier closing;
    private final List<Runnable> batch = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile boolean done;

    /**
     * @param executor where callbacks run; null for a new virtual thread per drain
     * @param closing whether the source is closing: the rest of a batch is then dropped
     */
    SerialCallbacks(Executor executor, BooleanSupplier closing) {
        this.executor = executor != null ? executor
                : task -> Thread.ofVirtual().name("ssekit-eventsource-callbacks").start(task);
        this.closing = closing;
    }

    /** Queues a callback of the current batch (called by the parser, on the delivering thread). */
    void add(Runnable r) {
        batch.add(r);
    }

    /** Takes the callbacks the parser queued (called under the parser lock). */
    List<Runnable> takeBatch() {
        List<Runnable> runs = new ArrayList<>(batch);
        batch.clear();
        return runs;
    }

    /** Runs the callbacks of a batch, then {@code then} (which asks for more bytes). */
    void flush(List<Runnable> runs, Runnable then) {
        submit(() -> {
            for (Runnable r : runs) {
                if (closing.getAsBoolean()) {
                    return;
                }
                call(r);
            }
            then.run();
        });
    }

    void run(Runnable r) {
        submit(() -> call(r));
    }

    void finish(Runnable onClosed) {
        submit(() -> {
            call(onClosed);
            done = true;
        });
    }

    private void call(Runnable r) {
        if (done) {
            return;
        }
        try {
            r.run();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "EventSource listener threw; ignored", e);
        }
    }

    private void submit(Runnable task) {
        queue.add(task);
        if (draining.compareAndSet(false, true)) {
            try {
                executor.execute(this::drain);
            } catch (RuntimeException e) {
                draining.set(false);
                LOG.log(Level.ERROR, "EventSource callback executor refused a task; callbacks dropped", e);
            }
        }
    }

    private void drain() {
        while (true) {
            Runnable t;
            while ((t = queue.poll()) != null) {
                t.run();
            }
            draining.set(false);
            if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
                return;
            }
        }
    }
}
