package dev.ssekit;

import java.time.Duration;
import java.util.concurrent.Future;

/** {@link Scheduler#system()}: the codec module's shared scheduler thread, under the server's type. */
final class SystemScheduler implements Scheduler {

    static final SystemScheduler INSTANCE = new SystemScheduler();

    private final dev.ssekit.time.Scheduler shared = dev.ssekit.time.Scheduler.system();

    private SystemScheduler() {
    }

    @Override
    public Future<?> schedule(Runnable task, Duration delay) {
        return shared.schedule(task, delay);
    }
}
