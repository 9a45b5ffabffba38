package dev.ssekit.servlet;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread that releases the writers of aborted servlet transports: each tick it walks every
 * transport whose abort is under way, {@link #ROUNDS} times, interrupting the writers still inside,
 * then drops each transport that reports that it is done (its writers left, or its deadline passed).
 * It ticks without a pause for 50 ms after the latest abort, then pauses 1 ms between ticks.
 *
 * <p>One per JVM (well, per class loader: per web application): {@link ServletSse} is a static
 * entry point with no instance or lifecycle of its own to hang a thread on, and what must stay
 * bounded is the number of threads that compete with the writers they release, whatever number of
 * connections abort at once (a proxy that stops reading times all its clients out together). The
 * thread is a platform daemon thread (the interrupts must land while the writers run, in parallel
 * with them), started with the first abort that needs it and ended once no abort is left, so that
 * an idle web application holds no thread of its own (a redeploy leaks none).
 *
 * <p>If the thread cannot be started ({@link OutOfMemoryError} "unable to create native thread"),
 * {@link #submit} says so and the caller ends the response without it; if the thread dies of an
 * error, every transport it was releasing is handed to {@link Target#unreleased} first.
 *
 * <p>Thread-safe.
 */
final class AbortInterrupter {

    /** What the interrupter releases: one aborted transport. */
    interface Target {
        /**
         * Interrupts each thread still inside a write of this target once. Must not block.
         *
         * @return whether any writer is still inside
         */
        boolean interruptWriters();

        /**
         * After a tick's rounds of interrupts: when the writers have all left, or the deadline
         * passed, starts the end of the response. Must not block.
         *
         * @param now {@link System#nanoTime()} at the start of this tick
         * @return whether the target is done (the interrupter drops it)
         */
        boolean poll(long now);

        /**
         * The interrupter cannot (or no longer) run for this target: end the response without it.
         * Must not block.
         *
         * @param why what stopped the interrupter
         */
        void unreleased(Throwable why);
    }

    private static final System.Logger LOG = System.getLogger(ServletSse.class.getName());

    /** The thread's name. */
    static final String THREAD_NAME = "ssekit-servlet-abort";

    /** The one interrupter of this class loader. */
    static final AbortInterrupter SHARED =
            new AbortInterrupter(Thread.ofPlatform().daemon().name(THREAD_NAME).factory());

    /** How long after the latest abort the thread ticks without a pause (then it parks 1 ms between ticks). */
    private static final long SPIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * Rounds of interrupts per tick: each round interrupts every writer still inside any target once,
     * so that every writer gets interrupts over the whole tick, in parallel with all the others (an
     * interrupt that lands in a container's wait for the socket may be swallowed and only wakes the
     * writer; one that lands between that wait and its next socket write fails the write).
     */
    private static final int ROUNDS = 256;

    private final ThreadFactory threads;
    /** Guards {@link #pending}, {@link #lastSubmitted} and {@link #thread}. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Submitted, not yet taken by the thread. */
    private final List<Target> pending = new ArrayList<>();
    private long lastSubmitted;
    /** The running thread, or null. */
    private Thread thread;

    AbortInterrupter(ThreadFactory threads) {
        this.threads = threads;
    }

    /**
     * Hands {@code target} to the thread, starting it if none runs.
     *
     * @param target the aborted transport
     * @return null when the thread took it; otherwise why the thread could not be started (the
     *     target is not held: the caller ends the response without it)
     */
    Throwable submit(Target target) {
        lock.lock();
        try {
            pending.add(target);
            lastSubmitted = System.nanoTime();
            if (thread != null) {
                return null; // running: it takes the target on its next tick
            }
            try {
                Thread t = threads.newThread(this::run);
                if (t == null) {
                    throw new IllegalStateException("the thread factory made no thread");
                }
                t.start();
                thread = t;
                return null;
            } catch (OutOfMemoryError | RuntimeException e) {
                pending.remove(target); // no thread ran: pending held only this target
                return e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether the thread is running (for tests). */
    boolean running() {
        lock.lock();
        try {
            return thread != null;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        List<Target> active = new ArrayList<>();
        Throwable died = null;
        try {
            while (true) {
                long spinUntil;
                lock.lock();
                try {
                    active.addAll(pending);
                    pending.clear();
                    if (active.isEmpty()) {
                        thread = null; // a later submit starts a new one
                        return;
                    }
                    spinUntil = lastSubmitted + SPIN_NANOS;
                } finally {
                    lock.unlock();
                }
                long now = System.nanoTime();
                for (int round = 0; round < ROUNDS; round++) {
                    boolean any = false;
                    for (Target t : active) {
                        any |= interrupt(t);
                    }
                    if (!any) {
                        break;
                    }
                    Thread.onSpinWait();
                }
                active.removeIf(t -> poll(t, now));
                if (!active.isEmpty()) {
                    if (now - spinUntil < 0) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(PAUSE_NANOS);
                    }
                }
                Thread.interrupted(); // nothing of ours interrupts this thread; a stray interrupt must not make it spin
            }
        } catch (RuntimeException | Error e) {
            died = e;
            throw e;
        } finally {
            if (died != null) {
                List<Target> left;
                lock.lock();
                try {
                    thread = null;
                    left = new ArrayList<>(active);
                    left.addAll(pending);
                    pending.clear();
                } finally {
                    lock.unlock();
                }
                LOG.log(Level.ERROR, "SSE abort: the interrupter thread failed; " + left.size()
                        + " aborted response(s) are completed without it", died);
                for (Target t : left) {
                    unreleased(t, died);
                }
            }
        }
    }

    private static boolean interrupt(Target t) {
        try {
            return t.interruptWriters();
        } catch (RuntimeException e) {
            return false; // poll() reports it
        }
    }

    private static boolean poll(Target t, long now) {
        try {
            return t.poll(now);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "SSE abort: releasing an aborted response failed", e);
            unreleased(t, e);
            return true;
        }
    }

    private static void unreleased(Target t, Throwable why) {
        try {
            t.unreleased(why);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "SSE abort: completing an aborted response failed", e);
        }
    }
}
