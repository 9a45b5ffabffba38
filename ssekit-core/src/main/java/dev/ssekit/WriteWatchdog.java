package dev.ssekit;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer thread that bounds blocking writes and closes of single connections: a deadline is
 * scheduled when a write starts and cancelled when it ends (cancelled tasks leave the queue at
 * once). Its tasks only abort transports (never block, never run user code). A daemon thread,
 * started with the first connection that writes.
 */
final class WriteWatchdog {

    private static final ScheduledThreadPoolExecutor TIMER;

    static {
        TIMER = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ssekit-write-watchdog");
            t.setDaemon(true);
            return t;
        });
        TIMER.setRemoveOnCancelPolicy(true);
        TIMER.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    private WriteWatchdog() {
    }

    /** Runs {@code task} (which must not block) after {@code nanos}, unless cancelled first. */
    static Future<?> after(long nanos, Runnable task) {
        return TIMER.schedule(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }
}
