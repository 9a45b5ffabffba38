package dev.ssekit;

import dev.ssekit.spi.StoredEvent;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The subscribers that share one delivery thread (a Netty event loop, or one of the broadcaster's
 * lanes) and the bounded inbox of events on their way to them (DESIGN.md §4). The publisher hands
 * each event to each group once; the group, on its own thread, matches the event against its
 * {@link SubscriberIndex} and queues the same frame for each matching subscriber, whose transport
 * then writes all it has in one gathering write.
 *
 * <p><b>Backpressure.</b> The inbox holds at most {@code capacity} events and about {@code
 * maxBytes} of frames (a quarter of a subscriber's bound, so that what waits here and what a
 * publisher can see in subscribers' queues stay within a subscriber's bound): a publisher that
 * outruns the group waits in {@link #offer} until the group has taken some (on the group's own
 * thread it runs the group instead, since waiting there would wait for itself). One run handles at
 * most {@code maxEventsPerRun} events or {@code maxBytesPerRun} bytes before it yields the thread,
 * so the subscribers' writes, queued on the same thread, go out in between and a healthy
 * subscriber's queue never takes a whole inbox at once. Events stay in sequence order; control
 * actions (the shutdown notice) take their place in that order and ignore the bound.
 *
 * <p>Thread-safe.
 */
final class DeliveryGroup implements Runnable {

    private static final System.Logger LOG = System.getLogger(DeliveryGroup.class.getName());

    final SubscriberIndex index = new SubscriberIndex();
    private final Executor executor;
    private final int capacity;
    private final long maxBytes;
    private final int maxEventsPerRun;
    private final long maxBytesPerRun;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    /** StoredEvents and control Runnables, in order; guarded by lock. */
    private final ArrayDeque<Object> inbox = new ArrayDeque<>();
    /** Events in the inbox (control actions are not counted against the capacity); guarded by lock. */
    private int events;
    /** Their frames' bytes; guarded by lock. */
    private long bytes;
    private boolean scheduled; // guarded by lock
    /** After {@link #close}: events are no longer taken (the last action is queued). Guarded by lock. */
    private boolean closed;
    /** The thread of the last run: a publisher on it must not wait for the group. */
    private volatile Thread runner;

    DeliveryGroup(Executor executor, int capacity, long maxBytes, int maxEventsPerRun, long maxBytesPerRun) {
        this.executor = executor;
        this.capacity = capacity;
        this.maxBytes = maxBytes;
        this.maxEventsPerRun = maxEventsPerRun;
        this.maxBytesPerRun = maxBytesPerRun;
    }

    /**
     * Queues an event for this group's subscribers; waits while the inbox is full. After {@link
     * #close} the event is dropped (its subscribers are getting their last frame).
     *
     * @throws InterruptedException if interrupted while waiting (the event is then not queued)
     */
    void offer(StoredEvent event) throws InterruptedException {
        boolean schedule;
        lock.lock();
        try {
            while (isFull() && !closed) {
                if (Thread.currentThread() == runner) {
                    lock.unlock();
                    try {
                        runSome(); // on our own thread: deliver some instead of waiting for ourselves
                    } finally {
                        lock.lock();
                    }
                } else {
                    notFull.await(100, TimeUnit.MILLISECONDS); // timed: the runner may become known
                }
            }
            if (closed) {
                return;
            }
            inbox.addLast(event);
            events++;
            bytes += event.frame().length;
            schedule = claimRun();
        } finally {
            lock.unlock();
        }
        if (schedule) {
            schedule();
        }
    }

    /** Under the lock: marks a run as scheduled; returns whether the caller must schedule it. */
    private boolean claimRun() {
        boolean claim = !scheduled;
        scheduled = true;
        return claim;
    }

    /**
     * Queues a last action behind the events queued so far and takes no more events: a publisher
     * waiting for room gives up its event for this group. Never waits.
     */
    void close(Runnable last) {
        boolean schedule;
        lock.lock();
        try {
            closed = true;
            notFull.signalAll();
            inbox.addLast(last);
            schedule = claimRun();
        } finally {
            lock.unlock();
        }
        if (schedule) {
            schedule();
        }
    }

    /**
     * Queues a control action behind the events queued so far (it ignores the bound); after
     * {@link #close} it is dropped. Never waits.
     */
    void control(Runnable action) {
        boolean schedule;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            inbox.addLast(action);
            schedule = claimRun();
        } finally {
            lock.unlock();
        }
        if (schedule) {
            schedule();
        }
    }

    /** Whether a publisher would wait now. */
    boolean full() {
        lock.lock();
        try {
            return isFull();
        } finally {
            lock.unlock();
        }
    }

    /** Events waiting in the inbox. */
    int backlog() {
        lock.lock();
        try {
            return events;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: at the event bound, or at the byte bound (an empty inbox takes any one event). */
    private boolean isFull() {
        return events >= capacity || (events > 0 && bytes >= maxBytes);
    }

    private void schedule() {
        try {
            executor.execute(this);
        } catch (RejectedExecutionException stopped) {
            // the I/O thread has shut down (its server closed): its connections are gone with it
            LOG.log(Level.DEBUG, "delivery thread stopped; dropping its backlog: {0}", stopped.toString());
            lock.lock();
            try {
                inbox.clear();
                events = 0;
                bytes = 0;
                scheduled = false;
                notFull.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public void run() {
        runner = Thread.currentThread();
        if (runSome()) {
            schedule(); // more to do: yield the thread so the writes queued meanwhile go out first
        }
    }

    /**
     * Delivers up to one run's worth; returns whether items remain (and the group stays scheduled).
     * Consecutive events for the same audience (the same topics, both restricted or both not) are
     * taken as one segment: the index is walked once for it and each matching subscriber takes the
     * whole segment under one lock, rather than once per event (a burst to thousands of subscribers
     * is one walk, not hundreds).
     */
    private boolean runSome() {
        int n = 0;
        long runBytes = 0; // not the field: what this run delivered
        List<StoredEvent> segment = new ArrayList<>();
        while (true) {
            Runnable control = null;
            lock.lock();
            try {
                if (inbox.isEmpty()) {
                    scheduled = false;
                    return false;
                }
                if (n >= maxEventsPerRun || runBytes >= maxBytesPerRun) {
                    return true;
                }
                if (inbox.peekFirst() instanceof Runnable r) {
                    inbox.pollFirst();
                    control = r;
                } else {
                    while (n < maxEventsPerRun && runBytes < maxBytesPerRun && inbox.peekFirst() instanceof StoredEvent e
                            && (segment.isEmpty() || sameAudience(segment.getFirst(), e))) {
                        inbox.pollFirst();
                        events--;
                        bytes -= e.frame().length;
                        n++;
                        runBytes += e.frame().length;
                        segment.add(e);
                    }
                    notFull.signalAll();
                }
            } finally {
                lock.unlock();
            }
            if (control != null) {
                try {
                    control.run();
                } catch (RuntimeException ex) {
                    LOG.log(Level.WARNING, "SSE delivery control action failed", ex);
                }
                continue;
            }
            try {
                index.forEachMatch(segment.getFirst(), s -> s.offer(segment));
            } catch (RuntimeException ex) {
                // a bug of ours must not wedge the group (it would stay scheduled, never run again)
                LOG.log(Level.ERROR, "SSE delivery of events " + segment.getFirst().id() + " to " + segment.getLast().id()
                        + " failed", ex);
            }
            segment.clear();
        }
    }

    /** Whether every subscriber that matches one event matches the other (matching reads nothing else). */
    private static boolean sameAudience(StoredEvent a, StoredEvent b) {
        return a.restricted() == b.restricted() && (a.topics() == b.topics() || a.topics().equals(b.topics()));
    }
}
