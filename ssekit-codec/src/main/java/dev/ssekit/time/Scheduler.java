package dev.ssekit.time;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Future;

/**
 * Runs tasks after a delay: the one timer behind reconnect delays, stall detection and heartbeats.
 * Injectable so that tests advance time instead of sleeping (as Caffeine's {@code Scheduler}).
 *
 * <p>Implementations must be thread-safe. Tasks must be short and must not block: they run on the
 * scheduler's own thread and typically hand real work to an executor.
 *
 * <p>The server module's {@code dev.ssekit.Scheduler} extends this interface without adding a
 * method, so one implementation of it serves server and client alike.
 */
@FunctionalInterface
public interface Scheduler {

    /**
     * Runs {@code task} once, {@code delay} from now.
     *
     * @param task what to run
     * @param delay how long to wait; zero or negative runs it as soon as possible
     * @return a handle whose {@link Future#cancel(boolean)} stops the task if it has not run yet
     * @throws NullPointerException if an argument is null
     */
    Future<?> schedule(Runnable task, Duration delay);

    /**
     * The JVM-wide default: one daemon platform thread named {@code ssekit-scheduler}, started on
     * first use and shared by every client, connection and broadcaster that uses the default.
     *
     * @return the shared system scheduler
     */
    static Scheduler system() {
        return SystemScheduler.INSTANCE;
    }

    /**
     * Checks arguments for implementations.
     *
     * @param task the task
     * @param delay the delay
     * @throws NullPointerException if an argument is null
     */
    static void checkArguments(Runnable task, Duration delay) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(delay, "delay");
    }
}
