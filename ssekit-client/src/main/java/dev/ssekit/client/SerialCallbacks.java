package dev.ssekit.client;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The serial callback executor of an {@link EventSource}: runs listener callbacks one at a time, in
 * submission order, never concurrently, and none after {@link #finish}. Inline on the submitting
 * thread under a lock when no executor is given, otherwise drained on the executor by one task at
 * a time.
 *
 * <p>Contract: a callback that throws is logged and ignored, so one listener bug never stops the
 * stream. {@link #add} and {@link #takeBatch} are called only under the source's parser lock (the
 * batch is not thread-safe by itself); {@link #flush}, {@link #run} and {@link #finish} are
 * thread-safe.
 */
final class SerialCallbacks {

    private static final System.Logger LOG = System.getLogger(EventSource.class.getName());

    private final Executor executor;
    private final BooleanSupplier closing;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Runnable> batch = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile boolean done;

    /**
     * @param executor where callbacks run; null to run them on the submitting thread, under a lock
     * @param closing whether the source is closing: the rest of a batch is then dropped
     */
    SerialCallbacks(Executor executor, BooleanSupplier closing) {
        this.executor = executor;
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
        if (executor == null) {
            lock.lock();
            try {
                task.run();
            } finally {
                lock.unlock();
            }
            return;
        }
        queue.add(task);
        if (draining.compareAndSet(false, true)) {
            executor.execute(this::drain);
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
