package dev.ssekit;

import java.time.Duration;

/**
 * Runs tasks after a delay: the one timer behind the broadcaster's heartbeats and write deadlines,
 * and the client's reconnect delays and stall checks. Injectable so that tests advance time
 * instead of sleeping.
 *
 * <p>This is {@link dev.ssekit.time.Scheduler} (from the codec module, which the client uses
 * without the server) under the name server code has always imported; it adds no method, and
 * every implementation of it is accepted wherever a {@code dev.ssekit.time.Scheduler} is, the
 * client's included. The contract is the same: implementations must be thread-safe; tasks must be
 * short and must not block.
 */
@FunctionalInterface
public interface Scheduler extends dev.ssekit.time.Scheduler {

    /**
     * The JVM-wide default: {@link dev.ssekit.time.Scheduler#system()}, one daemon platform thread
     * named {@code ssekit-scheduler} shared by every client, connection and broadcaster that uses
     * the default.
     *
     * @return the shared system scheduler
     */
    static Scheduler system() {
        return SystemScheduler.INSTANCE;
    }

    /**
     * Checks arguments for implementations, as {@link dev.ssekit.time.Scheduler#checkArguments}.
     *
     * @param task the task
     * @param delay the delay
     * @throws NullPointerException if an argument is null
     */
    static void checkArguments(Runnable task, Duration delay) {
        dev.ssekit.time.Scheduler.checkArguments(task, delay);
    }
}
