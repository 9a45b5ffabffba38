package dev.ssekit.hub;

import dev.ssekit.Scheduler;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.Subscription;
import dev.ssekit.spi.EventLog;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * How a subscriber's stream ends when the hub, not the client, ends it (issue #26): the drain of a
 * node that leaves a cluster, and the maximum connection age.
 *
 * <p><b>Drain.</b> {@link #drain()} turns the node unready ({@link #ready} answers false, so a load
 * balancer polling {@code /readyz} sends new subscribers elsewhere, and the hub refuses those that
 * still come with 503), then closes the open streams spread evenly over the {@link Settings#drain
 * window}: stream {@code i} of {@code n} at {@code window * i / n}, so the first closes at once and
 * the reconnects reach the other nodes at {@code n / window} per second, not all at once. Each stream
 * ends with a {@code retry:} hint alone ({@code retry: N}, a frame without data that no client
 * dispatches as an event: a Mercure client must see no event the publisher did not send), drawn at
 * random from {@code [0, window]},
 * which spreads the reconnects once more (a client that reconnects at once lands on another node
 * anyway). The stage {@link #drain()} returns completes when the last stream closed or the window is
 * over, whichever comes first; but when a load balancer checks the node ({@code /readyz} was asked
 * within the last {@link #CHECKED_WITHIN}), not before the node has been unready for {@link #NOTICE}
 * (or the whole window, when shorter): the load balancer needs that long to stop sending requests,
 * and a node that stopped at once (no streams left, say) would refuse the publishes still routed to
 * it. A node nobody checks (one node, a developer's Ctrl-C) stops as soon as its streams are closed.
 * Publishes are not affected by the drain. A window of zero ends every stream at once, each with a
 * hint drawn from {@code [0, 1 s]}, and the drain completes at once.
 *
 * <p><b>Maximum age.</b> With {@link Settings#maxConnectionAge} set, each stream closes at its age
 * jittered by ±10 % (so streams opened together do not all leave together), with the same kind
 * of {@code retry:} hint, drawn from {@code [0, 1 s]}. A client resumes with
 * {@code Last-Event-ID}: what it missed is replayed from history.
 *
 * <p>Closing a stream first cancels its subscription (no event is written after the hint), then
 * writes the hint and closes the connection, on a virtual thread (writes may block). Thread-safe.
 */
final class ConnectionLifetime {

    private static final System.Logger LOG = System.getLogger(ConnectionLifetime.class.getName());
    /** The largest retry hint a stream closed for its age gets. */
    static final Duration AGE_RETRY = Duration.ofSeconds(1);
    /**
     * How long a draining node stays unready before its drain may end, even with no stream left: a
     * load balancer polling {@code /readyz} every second and taking a node out after 3 failures (or
     * HAProxy's defaults, 2 s and 3) stops routing to it within that, plus the request in flight.
     */
    static final Duration NOTICE = Duration.ofSeconds(5);
    /** A node whose {@code /readyz} was asked within this is checked by a load balancer (see {@link #NOTICE}). */
    static final Duration CHECKED_WITHIN = Duration.ofSeconds(60);
    /** How long {@code /readyz} waits for the log reader to catch up before it answers 503. */
    static final Duration READY_WAIT = Duration.ofSeconds(1);

    /**
     * The lifetime settings.
     *
     * @param drain the window over which a leaving node closes its streams ({@code --drain}); zero: all at once
     * @param maxConnectionAge the age at which a stream is closed, ±10 % ({@code --max-connection-age}); empty: never
     */
    record Settings(Duration drain, Optional<Duration> maxConnectionAge) {

        /** The hub's default drain window, in seconds (see {@code --drain}). */
        static final int DEFAULT_DRAIN_SECONDS = 20;

        /** No drain window (every stream closes at once, the hub's behaviour before issue #26), no maximum age. */
        static final Settings NONE = new Settings(Duration.ZERO, Optional.empty());

        /**
         * @throws IllegalArgumentException naming the setting and its value when it is out of range
         */
        Settings {
            Objects.requireNonNull(drain, "drain");
            Objects.requireNonNull(maxConnectionAge, "maxConnectionAge");
            if (drain.isNegative()) {
                throw new IllegalArgumentException("drain must not be negative: " + drain);
            }
            if (maxConnectionAge.filter(a -> a.isNegative() || a.isZero()).isPresent()) {
                throw new IllegalArgumentException("maxConnectionAge must be positive: " + maxConnectionAge.get());
            }
        }
    }

    /** One open stream. */
    private record Open(SseConnection connection, Subscription subscription, CompletableFuture<Future<?>> timer) {
    }

    private final Settings settings;
    private final Scheduler scheduler;
    private final Set<Open> open = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    /** Completed when the node drains and its last stream closed. */
    private final CompletableFuture<Void> streamsClosed = new CompletableFuture<>();
    private volatile boolean draining;
    /** When {@code /readyz} was last asked (nanoTime), or {@link Long#MIN_VALUE}: never. */
    private volatile long lastReadyCheck = Long.MIN_VALUE;

    /**
     * @param settings the drain window and maximum age
     * @param scheduler times the closes (the hub's; a manual one in tests)
     */
    ConnectionLifetime(Settings settings, Scheduler scheduler) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    /** The settings. */
    Settings settings() {
        return settings;
    }

    /**
     * Tracks a started stream: it is closed at its maximum age, or in the drain. A stream that starts
     * while the node drains is closed at once.
     */
    void opened(SseConnection connection, Subscription subscription) {
        Open o = new Open(connection, subscription, new CompletableFuture<>());
        open.add(o);
        connection.onClose(reason -> {
            open.remove(o);
            o.timer().thenAccept(t -> t.cancel(false));
            if (draining && open.isEmpty()) {
                streamsClosed.complete(null);
            }
        });
        if (draining) {
            end(o, retryWithin(settings.drain()));
            return;
        }
        settings.maxConnectionAge().ifPresent(age -> {
            long nanos = age.toNanos();
            long jittered = nanos - nanos / 10 + ThreadLocalRandom.current().nextLong(nanos / 5 + 1); // ±10 %
            o.timer().complete(scheduler.schedule(() -> end(o, retryWithin(AGE_RETRY)), Duration.ofNanos(jittered)));
        });
    }

    /** Whether the node drains: new subscriptions are refused (503), {@code /readyz} answers 503. */
    boolean draining() {
        return draining;
    }

    /**
     * Whether the node is ready for subscribers: it does not drain, and its log reader has caught up
     * with what the log held when asked (at once for a log of its own; with Redis, within {@link
     * #READY_WAIT}). The stage completes normally, with false for "not ready".
     */
    CompletionStage<Boolean> ready(EventLog log) {
        lastReadyCheck = System.nanoTime();
        if (draining) {
            return CompletableFuture.completedFuture(false);
        }
        CompletionStage<Void> caughtUp;
        try {
            caughtUp = log.caughtUp();
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(false);
        }
        return caughtUp.toCompletableFuture().orTimeout(READY_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((v, e) -> e == null && !draining);
    }

    /**
     * Starts the drain (once; later calls return the same stage): the node turns unready at once and its
     * open streams close spread evenly over the window.
     *
     * @return completes when the last stream closed or the window is over
     */
    CompletionStage<Void> drain() {
        synchronized (drained) {
            if (draining) {
                return drained;
            }
            draining = true;
        }
        List<Open> streams = new ArrayList<>(open);
        int n = streams.size();
        long window = settings.drain().toNanos();
        LOG.log(Level.INFO, "draining {0} streams over {1} s", n, settings.drain().toMillis() / 1000.0);
        if (window == 0) {
            // no window: every stream ends at once, with the same lone hint as in a drain (never the
            // broadcaster's "event: shutdown", which an EventSource dispatches as an update), drawn from
            // [0, 1 s] so the reconnects are spread a little
            for (Open o : streams) {
                o.timer().thenAccept(t -> t.cancel(false));
                end(o, retryWithin(AGE_RETRY));
            }
            drained.complete(null);
            return drained;
        }
        // the end: the last stream closed and the load balancer had time to notice, or the window is over
        CompletableFuture<Void> noticed = new CompletableFuture<>();
        long checked = lastReadyCheck;
        if (checked != Long.MIN_VALUE && System.nanoTime() - checked < CHECKED_WITHIN.toNanos()) {
            scheduler.schedule(() -> noticed.complete(null), settings.drain().compareTo(NOTICE) < 0 ? settings.drain() : NOTICE);
        } else {
            noticed.complete(null); // no load balancer checks this node: nothing to wait for
        }
        CompletableFuture.allOf(streamsClosed, noticed).thenRun(() -> drained.complete(null));
        if (n == 0 || open.isEmpty()) {
            streamsClosed.complete(null);
        }
        for (int i = 0; i < n; i++) {
            Open o = streams.get(i);
            long at = window / n * i + window % n * i / n; // window * i / n without overflow
            o.timer().thenAccept(t -> t.cancel(false)); // the age timer gives way to the drain
            Duration retry = retryWithin(settings.drain());
            if (at == 0) {
                end(o, retry);
            } else {
                scheduler.schedule(() -> end(o, retry), Duration.ofNanos(at));
            }
        }
        scheduler.schedule(() -> drained.complete(null), settings.drain());
        return drained;
    }

    /** A retry hint drawn from [0, limit]. */
    private static Duration retryWithin(Duration limit) {
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(limit.toMillis() + 1));
    }

    /** Cancels the subscription, then writes the hint and closes, on a virtual thread. */
    private void end(Open o, Duration retry) {
        o.subscription().cancel();
        hintAndClose(o.connection(), retry);
    }

    /**
     * Ends a stream whose head went out but whose subscription could not start because the hub is
     * shutting down (it passed the drain check just before the drain began, and the broadcaster closed
     * before it registered): the same lone hint as a drain's, drawn from {@code [0, 1 s]}, then the close.
     */
    void notStarted(SseConnection connection) {
        hintAndClose(connection, retryWithin(AGE_RETRY));
    }

    /** Writes the hint alone and closes, on a virtual thread (the write may block). */
    private static void hintAndClose(SseConnection connection, Duration retry) {
        Thread.ofVirtual().name("ssekit-hub-close").start(() -> {
            try {
                // the hint alone: an "event: shutdown" with empty data would reach Mercure clients as an update
                connection.send(SseMessage.builder().retry(retry).build());
            } catch (IOException gone) {
                LOG.log(Level.DEBUG, "stream gone before its retry hint: {0}", gone.toString());
            }
            connection.close();
        });
    }

    /** The streams tracked now. */
    int openStreams() {
        return open.size();
    }
}
