package dev.ssekit;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * A delivery executor for tests that runs what was handed to it, in order, only when told (as a
 * Netty event loop would run a delivery group and its writes), so that what waits in a group's
 * inbox is exact. Thread-safe.
 */
final class StepLoop implements Executor {

    private final ArrayDeque<Runnable> pending = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
        pending.add(task);
    }

    /** Runs tasks, and the tasks they queue, until none is left. */
    void runPending() {
        while (true) {
            Runnable r;
            synchronized (this) {
                r = pending.poll();
            }
            if (r == null) {
                return;
            }
            r.run();
        }
    }
}
