package dev.ssekit.hub;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.BroadcasterStats;
import dev.ssekit.CloseReason;
import dev.ssekit.Scheduler;
import dev.ssekit.SlowConsumerPolicy;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import dev.ssekit.TopicSelector;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The hub's own figures as an event stream, for the status page: once a {@link #PERIOD}, while at
 * least one viewer watches, one JSON snapshot of the broadcaster's {@link BroadcasterStats}
 * (connections, publishes and deliveries per second, evictions, history) and the first {@link
 * #SHOWN} active subscriptions (see {@link #snapshot}).
 *
 * <p>Viewers are subscribers of a broadcaster of their own, so watching never shows up in the
 * figures watched (a viewer is no connection, a snapshot no publish or delivery of the hub's). That
 * broadcaster keeps one event of history, so a new viewer gets the newest snapshot at once, and
 * drops a slow viewer's oldest snapshots rather than queueing them. One timer task for every
 * viewer: each tick hands the sampling to {@code work} and is scheduled again only once that is
 * done, so ticks never overlap; when the last viewer leaves no further tick is scheduled. Nothing
 * exists (no broadcaster, no timer) until the first viewer.
 *
 * <p>Thread-safe.
 */
final class StatusFeed implements AutoCloseable {

    /** The page. */
    static final String PAGE = "/status";
    /** The event stream the page reads. */
    static final String EVENTS = PAGE + "/events";
    /** How often a snapshot is sent. */
    static final Duration PERIOD = Duration.ofSeconds(1);
    /** The most active subscriptions a snapshot lists (it counts them all). */
    static final int SHOWN = 100;
    private static final String TOPIC = "status";
    private static final JSON JSON_WITH_NULLS = JSON.std.with(JSON.Feature.WRITE_NULL_PROPERTIES);

    private final Broadcaster hub;
    private final Subscriptions subscriptions;
    private final Scheduler scheduler;
    private final Ticker ticker;
    private final Executor work;
    private final ReentrantLock lock = new ReentrantLock();
    /** The viewers' broadcaster, built for the first viewer. Guarded by lock. */
    private Broadcaster viewers;
    /** Viewers whose stream is open. Guarded by lock. */
    private int watching;
    /** Whether a tick is scheduled or running. Guarded by lock. */
    private boolean ticking;
    private boolean closed;
    private Future<?> next;
    /** The previous sample; only ticks touch it, and they run one after the other. */
    private Sample last;

    private record Sample(long nanos, long published, long delivered) {
    }

    /**
     * @param hub the broadcaster whose figures are shown
     * @param subscriptions the active subscriptions listed
     * @param scheduler runs the ticks (and the viewers' heartbeats)
     * @param ticker measures the time between samples, for the rates
     * @param work samples and sends (the scheduler's own thread only schedules)
     */
    StatusFeed(Broadcaster hub, Subscriptions subscriptions, Scheduler scheduler, Ticker ticker, Executor work) {
        this.hub = hub;
        this.subscriptions = subscriptions;
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.work = work;
    }

    /**
     * Makes a started connection a viewer: it gets the newest snapshot (if any) and every later
     * one, until it closes. The first viewer (after none) gets a snapshot at once. Closes the
     * connection when the feed is closed.
     */
    void open(SseConnection connection) {
        Broadcaster b;
        boolean start;
        lock.lock();
        try {
            if (closed) {
                b = null;
                start = false;
            } else {
                if (viewers == null) {
                    viewers = Broadcaster.builder().history(1, 16L << 20, Duration.ofHours(1))
                            .slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).maxQueuedBytes(4L << 20)
                            .scheduler(scheduler).ticker(ticker).build();
                }
                b = viewers;
                watching++;
                start = !ticking;
                ticking = true;
            }
        } finally {
            lock.unlock();
        }
        if (b == null) {
            connection.close();
            return;
        }
        connection.onClose(reason -> {
            lock.lock();
            try {
                watching--;
            } finally {
                lock.unlock();
            }
        });
        try {
            b.subscription(connection).topics(TopicSelector.exact(TOPIC)).resumeFrom(Broadcaster.EARLIEST).start();
        } catch (IllegalStateException closing) {
            connection.close();
            return;
        }
        if (start) {
            work.execute(this::tick);
        }
    }

    /** Viewers whose stream is open. */
    int viewers() {
        lock.lock();
        try {
            return watching;
        } finally {
            lock.unlock();
        }
    }

    /** Samples, sends, and schedules the next tick while anyone watches. */
    private void tick() {
        try {
            Broadcaster b;
            lock.lock();
            try {
                b = closed ? null : viewers;
            } finally {
                lock.unlock();
            }
            if (b != null) {
                b.publish(SseMessage.of(write(snapshot())), TOPIC);
            }
        } catch (RuntimeException e) {
            // the feed closing meanwhile (IllegalStateException), or a bug: the next tick tries again
            System.getLogger(StatusFeed.class.getName()).log(System.Logger.Level.DEBUG, "status snapshot not sent: {0}", e.toString());
        } finally {
            lock.lock();
            try {
                if (closed || watching == 0) {
                    ticking = false;
                    last = null; // rates restart with the next viewer
                } else {
                    next = scheduler.schedule(this::scheduled, PERIOD);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** On the scheduler's thread: the work goes elsewhere. */
    private void scheduled() {
        try {
            work.execute(this::tick);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            lock.lock();
            try {
                ticking = false;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * One snapshot, as sent: {@code connections}, {@code published} and {@code delivered} (totals),
     * {@code publishesPerSecond} and {@code deliveriesPerSecond} (since the previous snapshot, one
     * decimal; null in the first), {@code evictions} (total) and {@code evictionsByReason}, {@code
     * dropped}, {@code queuedBytes}, {@code historyEvents}, {@code historyBytes}, {@code
     * subscriptionCount} and {@code subscriptions} (the first {@link #SHOWN} by subscriber, as the
     * subscriptions API lists them, read without looking at the others). Called by one thread at a
     * time (the tick).
     */
    Map<String, Object> snapshot() {
        long now = ticker.read();
        BroadcasterStats s = hub.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("connections", s.connections());
        m.put("published", s.published());
        m.put("delivered", s.delivered());
        Sample previous = last;
        last = new Sample(now, s.published(), s.delivered());
        boolean rates = previous != null && now > previous.nanos();
        m.put("publishesPerSecond", rates ? perSecond(s.published() - previous.published(), now - previous.nanos()) : null);
        m.put("deliveriesPerSecond", rates ? perSecond(s.delivered() - previous.delivered(), now - previous.nanos()) : null);
        Map<String, Object> byReason = new TreeMap<>();
        long evictions = 0;
        for (Map.Entry<CloseReason, Long> e : s.evictions().entrySet()) {
            byReason.put(e.getKey().name().toLowerCase(Locale.ROOT), e.getValue());
            evictions += e.getValue();
        }
        m.put("evictions", evictions);
        m.put("evictionsByReason", byReason);
        m.put("dropped", s.dropped());
        m.put("queuedBytes", s.queuedBytes());
        m.put("historyEvents", s.historySize());
        m.put("historyBytes", s.historyBytes());
        // the first rows only, from the subscriptions' sorted index: the cost follows what is sent, not their number
        Subscriptions.First active = subscriptions.first(SHOWN);
        m.put("subscriptionCount", active.count());
        m.put("subscriptions", active.rows());
        return m;
    }

    /** A snapshot as JSON, on one line; null values (the first rates) are written. */
    static String write(Map<String, Object> snapshot) {
        try {
            return JSON_WITH_NULLS.asString(snapshot);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // only maps, lists, strings, numbers, booleans and null: cannot happen
        }
    }

    private static double perSecond(long delta, long nanos) {
        return Math.round(delta * 1e10 / nanos) / 10.0;
    }

    /** Stops the ticks; every viewer gets the broadcaster's shutdown event and is closed. Idempotent. */
    @Override
    public void close() {
        Broadcaster b;
        lock.lock();
        try {
            closed = true;
            b = viewers;
            if (next != null) {
                next.cancel(false);
            }
        } finally {
            lock.unlock();
        }
        if (b != null) {
            b.close();
        }
    }
}
