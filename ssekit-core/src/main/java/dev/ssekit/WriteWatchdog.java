package dev.ssekit;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer thread that bounds blocking writes and closes of single connections: a deadline is
 * scheduled when a write starts and cancelled when it ends (cancelled tasks leave the queue at
 * once). A daemon thread, started with the first connection that writes.
 *
 * <p>The timer thread itself only starts each expired task on a virtual thread of its own: a
 * task aborts a transport, and an {@link dev.ssekit.spi.SseTransport#abort()} may block (the SPI's
 * default calls {@code close()}, which may wait for a stuck socket) or throw, which on the timer
 * thread would stop every other connection's deadlines in the JVM. A task that throws is logged.
 */
final class WriteWatchdog {

    private static final System.Logger LOG = System.getLogger(SseConnection.class.getName());

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

    /** Runs {@code task} on a new virtual thread after {@code nanos}, unless cancelled first. */
    static Future<?> after(long nanos, Runnable task) {
        return TIMER.schedule(() -> Thread.ofVirtual().name("ssekit-write-deadline").start(() -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "SSE write/close deadline task failed", e);
            }
        }), Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }
}
