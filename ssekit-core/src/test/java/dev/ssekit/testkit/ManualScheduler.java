package dev.ssekit.testkit;

import dev.ssekit.Scheduler;
import dev.ssekit.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/** A scheduler and ticker whose time moves only when the test says so: no test sleeps for timing. */

public final class ManualScheduler implements Scheduler, Ticker {

    private record Task(long due, long seq, Runnable run, CompletableFuture<Void> handle) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.due != b.due
            ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    /** Every delay asked for, in order. */
    public final LinkedBlockingQueue<Duration> delays = new LinkedBlockingQueue<>();
    private long now = 1_000_000_000L;
    private long seq;

    /** A clock at an arbitrary start with nothing scheduled. */
    public ManualScheduler() {
    }

    @Override
    public Future<?> schedule(Runnable task, Duration delay) {
        Scheduler.checkArguments(task, delay);
        CompletableFuture<Void> handle = new CompletableFuture<>();
        lock.lock();
        try {
            delays.add(delay);
            tasks.add(new Task(now + Math.max(0, delay.toNanos()), seq++, task, handle));
        } finally {
            lock.unlock();
        }
        return handle;
    }

    @Override
    public long read() {
        lock.lock();
        try {
            return now;
        } finally {
            lock.unlock();
        }
    }

    /** Moves time forward and runs, in order, every task that falls due (on the calling thread). */
    public void advance(Duration d) {
        long target;
        lock.lock();
        try {
            target = now + d.toNanos();
        } finally {
            lock.unlock();
        }
        while (true) {
            Task t;
            lock.lock();
            try {
                t = tasks.peek();
                if (t == null || t.due > target) {
                    now = target;
                    return;
                }
                tasks.poll();
                now = t.due;
            } finally {
                lock.unlock();
            }
            if (!t.handle.isCancelled()) {
                t.run.run();
            }
        }
    }

    /** Tasks scheduled and neither run nor cancelled. */
    public List<Duration> pending() {
        lock.lock();
        try {
            List<Duration> out = new ArrayList<>();
            for (Task t : tasks) {
                if (!t.handle.isCancelled()) {
                    out.add(Duration.ofNanos(t.due - now));
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The next delay asked for, waiting for it (the request comes from another thread). */
    public Duration nextDelay() throws InterruptedException {
        Duration d = delays.poll(10, TimeUnit.SECONDS);
        if (d == null) {
            throw new AssertionError("no delay was scheduled within 10 s");
        }
        return d;
    }
}
