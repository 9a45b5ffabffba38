package dev.ssekit;

import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.StoredEvent;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes events to the {@link SseConnection}s subscribed to their topics, with history and
 * {@code Last-Event-ID} replay, heartbeats, a write deadline and a bound on each subscriber's queue.
 * Works over the connections of every adapter.
 *
 * <pre>{@code
 * Broadcaster hub = Broadcaster.create();
 * server.createContext("/prices", ex -> hub.subscribe(Sse.start(ex), TopicSelector.glob("prices/*")));
 * hub.publish(SseMessage.of("{\"ACME\":12.5}"), "prices/ACME");
 * }</pre>
 *
 * <p><b>Ids and history.</b> The broadcaster's {@link EventLog} (in memory by default, durable in
 * a file, or shared through Redis) gives each published event the next sequence number and its
 * wire id: the publisher's id when the message has one (kept as given and mapped to the sequence),
 * otherwise {@code <epoch>-<sequence>}, where the epoch names the log, so ids of another log or of
 * an earlier process are recognised. The broadcaster follows the log: every event stored in it (by
 * this broadcaster or, for a shared log, by another node) is delivered, in sequence order. Resume
 * points are found in O(1) (O(log n) for a shared log with gaps), without waiting for a publish.
 *
 * <p><b>Resume.</b> {@link #subscribe} reads the connection's {@code Last-Event-ID}: the subscriber
 * is registered first, then history after that id is replayed, then live events follow; an event
 * both replayed and received live is written once. If the id is not in history the subscriber
 * first gets a {@code reset} event whose data is {@code {"lastEventId":"…","reason":"expired"}}
 * (the id was ours but history no longer holds it; all retained history follows) or
 * {@code "reason":"unknown"} (not an id of this history; live events follow), so a gap is never
 * silent. A resume across a hole in a shared log's history gets the {@code expired} notice first,
 * and when a shared log loses events mid-stream (see {@link EventLog#follow(java.util.function.Consumer,
 * java.util.function.Consumer)}) every subscriber gets it in the loss's place, naming the last id
 * before it.
 *
 * <p><b>Delivery.</b> The {@link EventLog} encodes each event once; the broadcaster hands the stored
 * event to each delivery group once, never to each subscriber. Subscribers are grouped by their
 * server's I/O thread (a Netty event loop) or, for servers without one (JDK, Servlet), spread over
 * a few lanes ({@link Builder#deliveryLanes}); a group matches the event against its own
 * subscribers on its own thread and queues the same bytes for each. A subscriber's transport
 * writes everything queued in one (gathering) write: on Netty from the event loop, one direct
 * copy of a batch shared by every channel of the loop; elsewhere from a virtual thread that exists
 * only while there is something to write. {@link #publish} never blocks on a subscriber: a queue
 * over {@code maxQueuedBytes} (default 1 MiB) triggers the {@link SlowConsumerPolicy}. It waits
 * only when a group's inbox is full ({@link Builder#deliveryBacklog}, see {@link #isBacklogged()}).
 *
 * <p><b>Liveness.</b> One shared timer (the {@link Scheduler}) sweeps all subscribers every
 * {@code min(heartbeat, writeTimeout) / 2}: a subscriber idle for {@code heartbeat} (default 15 s)
 * gets a {@code :} comment; a write running longer than {@code writeTimeout} (default 30 s) evicts
 * it. A client that vanished without closing its TCP connection is therefore evicted once its
 * socket buffer is full (heartbeats fill it) plus at most {@code writeTimeout + sweep period}. On
 * the JDK server, whose API cannot abort a blocked write, the evicted connection leaves the
 * broadcaster and is marked CLOSED at once, but its socket and virtual thread stay until the
 * operating system gives up on the peer.
 *
 * <p>Thread-safe. {@link #close()} shuts down gracefully.
 */
public final class Broadcaster implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Broadcaster.class.getName());
    private static final int MAX_EVENTS_PER_RUN = 256;

    private final Ticker ticker;
    private final DeliveryContext delivery;

    private final EventLog log;
    /** Whether {@link #close()} closes the log: the default one, made by the builder. */
    private final boolean ownsLog;
    private final Scheduler scheduler;
    private final long writeTimeoutNanos;
    private final ResumePlanner resume;
    private final LivenessSweep liveness;
    private final Duration shutdownRetry;
    /** Every subscriber, by its connection (the one registry of all of them: no second set). */
    private final Map<StreamConnection, Subscriber> byConnection = new ConcurrentHashMap<>();
    /** The groups of connections with an I/O executor (Netty event loops), by that executor. */
    private final Map<Executor, DeliveryGroup> byExecutor = new ConcurrentHashMap<>();
    /** The broadcaster's own lanes, for connections without one (JDK, Servlet). */
    private final DeliveryGroup[] lanes;
    private final AtomicInteger nextLane = new AtomicInteger();
    /** Every group, in creation order: what a publish hands each event to. */
    private final List<DeliveryGroup> groups = new CopyOnWriteArrayList<>();
    private final int groupCapacity;
    private final LongAdder published = new LongAdder();
    private final Map<CloseReason, LongAdder> evictions = new EnumMap<>(CloseReason.class);
    private volatile boolean closed;
    private final Object closing = new Object();

    private Broadcaster(Builder b, EventLog log, boolean ownsLog) {
        this.ticker = b.ticker;
        this.log = log;
        this.ownsLog = ownsLog;
        this.scheduler = b.scheduler;
        this.writeTimeoutNanos = b.writeTimeout.toNanos();
        this.resume = new ResumePlanner(log);
        this.delivery = new DeliveryContext(b.maxQueuedBytes, b.policy, b.ticker, this::leave);
        this.liveness = new LivenessSweep(scheduler, ticker, b.heartbeat, b.writeTimeout, byConnection::values, delivery);
        this.shutdownRetry = b.shutdownRetry;
        this.groupCapacity = b.deliveryBacklog;
        this.lanes = new DeliveryGroup[b.lanes];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = newGroup(task -> Thread.ofVirtual().name("ssekit-lane").start(task));
        }
        evictions.put(CloseReason.SLOW_CONSUMER, new LongAdder());
        evictions.put(CloseReason.WRITE_TIMEOUT, new LongAdder());
        liveness.start();
    }

    /**
     * The log's follower: every stored event, in sequence order, one at a time (the log's
     * guarantee). Once {@link #close()} has run, the groups take no more events: none follows the
     * shutdown notice.
     */
    private void followed(StoredEvent event) {
        if (closed) {
            return;
        }
        published.increment();
        fanOut(event);
    }

    /**
     * A broadcaster with the defaults of {@link Builder}.
     *
     * @return a new broadcaster
     */
    public static Broadcaster create() {
        return builder().build();
    }

    /**
     * A builder with the defaults: history of 10,000 events / 16 MiB / 1 hour in memory,
     * heartbeat 15 s, write timeout 30 s, 1 MiB per subscriber, {@link
     * SlowConsumerPolicy#DISCONNECT}, shutdown retry hint 1 s, the system scheduler and ticker.
     *
     * @return a new builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Subscribes a connection to exact topics.
     *
     * @param connection an open connection from any ssekit adapter
     * @param topics one or more topics
     * @return the subscription
     * @throws IllegalArgumentException if no topic is given, or a topic is empty
     * @throws IllegalStateException if the connection is subscribed already, or the broadcaster is
     *     closed
     */
    public Subscription subscribe(SseConnection connection, String... topics) {
        List<TopicSelector> selectors = new ArrayList<>();
        for (String t : topics) {
            selectors.add(TopicSelector.exact(t));
        }
        return subscribe(connection, selectors);
    }

    /**
     * Subscribes a connection to the topics the selectors match; see {@link #subscribe(SseConnection,
     * Collection)}.
     *
     * @param connection an open connection from any ssekit adapter
     * @param selector a selector
     * @param more further selectors
     * @return the subscription
     * @throws IllegalArgumentException if the connection does not come from an ssekit adapter
     * @throws IllegalStateException if the connection is subscribed already, or the broadcaster is
     *     closed
     */
    public Subscription subscribe(SseConnection connection, TopicSelector selector, TopicSelector... more) {
        List<TopicSelector> selectors = new ArrayList<>();
        selectors.add(Objects.requireNonNull(selector, "selector"));
        selectors.addAll(List.of(more));
        return subscribe(connection, selectors);
    }

    /**
     * Subscribes a connection to the topics the selectors match, replaying history after the
     * connection's {@code Last-Event-ID} first (see the class description).
     *
     * @param connection an open connection from any ssekit adapter
     * @param selectors one or more selectors
     * @return the subscription; it ends by itself when the connection closes
     * @throws IllegalArgumentException if no selector is given, or the connection does not come
     *     from an ssekit adapter
     * @throws IllegalStateException if the connection is subscribed already, or the broadcaster is
     *     closed
     */
    public Subscription subscribe(SseConnection connection, Collection<TopicSelector> selectors) {
        return subscription(connection).topics(selectors).start();
    }

    /**
     * A subscription with more options than {@link #subscribe}: authorization for restricted
     * events and an explicit resume point.
     *
     * @param connection an open connection from any ssekit adapter
     * @return a request to complete with {@link SubscribeRequest#start()}
     * @throws NullPointerException if {@code connection} is null
     */
    public SubscribeRequest subscription(SseConnection connection) {
        return new SubscribeRequest(Objects.requireNonNull(connection, "connection"));
    }

    /**
     * Where a replay for {@code lastEventId} starts: the id itself when history holds it (events
     * after it follow), otherwise {@code "earliest"} (the id is unknown or expired, or is {@code
     * "earliest"} itself). This is the value of Mercure's {@code Last-Event-ID} response header;
     * subscribing with {@link SubscribeRequest#resumeFrom} and this value replays accordingly.
     *
     * @param lastEventId a client's last event id
     * @return the id replay starts after, or {@code "earliest"}
     */
    public String resumePoint(String lastEventId) {
        return resume.resumePoint(lastEventId);
    }

    /**
     * The id of the newest event in history: what a client that has seen everything would send as
     * {@code Last-Event-ID}. Mercure's subscriptions API reports it as {@code lastEventID}.
     *
     * <p>Never waits for a publish in progress.
     *
     * @return the id, or empty when history holds no event
     */
    public Optional<String> lastEventId() {
        return resume.lastEventId();
    }

    /**
     * The log this broadcaster follows and publishes into: for its reads (history size, {@link
     * EventLog#caughtUp()} before resuming a client that may come from another node) and, for a
     * shared log, its own state. Publish through the broadcaster, not the log: the broadcaster
     * validates.
     *
     * @return the log (the default in-memory one unless {@link Builder#log} gave another)
     */
    public EventLog log() {
        return log;
    }

    /** The resume point that replays all retained history: {@code "earliest"}, as in Mercure. */
    public static final String EARLIEST = "earliest";

    private Subscription start(SubscribeRequest r) {
        if (r.selectors.isEmpty()) {
            throw new IllegalArgumentException("subscribe needs at least one topic selector");
        }
        if (!(r.connection instanceof StreamConnection conn)) {
            throw new IllegalArgumentException("connection must come from Sse.start or Sse.open, got "
                    + r.connection.getClass().getName());
        }
        if (closed) {
            throw new IllegalStateException("the broadcaster is closed");
        }
        Subscriber s = new Subscriber(delivery, groupFor(conn), conn, List.copyOf(new LinkedHashSet<>(r.selectors)),
                r.authorized, ticker.read());
        if (byConnection.putIfAbsent(conn, s) != null) {
            throw new IllegalStateException("this connection is subscribed already");
        }
        // 1. register: from here on live events reach s (buffered until the replay is done)
        s.group.index.add(s);
        conn.onClose(reason -> remove(s));
        // 2. replay what history has after the resume point; 3. merge with the buffered live events
        ResumePlanner.Plan plan = resume.plan(r.resumeFrom != null ? r.resumeFrom : r.connection.lastEventId().orElse(""));
        s.finishReplay(plan.notice(), plan.replay(), plan.after());
        return s;
    }

    /**
     * Publishes an event to topics and waits until it is stored: the log stores it (encoded once),
     * then it is queued for every subscriber whose selectors match at least one of the topics (once
     * per subscriber). Never blocks on a subscriber; waits for the log (a file's write and fsync,
     * a Redis round trip), possibly storing other threads' concurrent publishes in the same batch.
     *
     * @param message the event; its id, if any, is kept as the wire id
     * @param topics one or more topics
     * @return the event's wire id
     * @throws IllegalArgumentException if no topic is given or a topic is empty
     * @throws IllegalStateException if the broadcaster (or its log) is closed
     * @throws java.io.UncheckedIOException if a file log cannot store it
     * @throws RuntimeException what the log failed with otherwise (Redis unreachable, say)
     */
    public String publish(SseMessage message, String... topics) {
        return publish(message, List.of(topics));
    }

    /**
     * Publishes an event to topics; see {@link #publish(SseMessage, String...)}.
     *
     * @param message the event
     * @param topics one or more topics
     * @return the event's wire id
     * @throws IllegalArgumentException if no topic is given or a topic is empty
     * @throws IllegalStateException if the broadcaster (or its log) is closed
     * @throws RuntimeException what the log failed with (see {@link #publish(SseMessage, String...)})
     */
    public String publish(SseMessage message, Collection<String> topics) {
        return publish(message, topics, false);
    }

    /**
     * Publishes an event and waits until it is stored; a {@code restricted} one (a Mercure
     * "private" update) reaches only subscribers whose {@link SubscribeRequest#authorizedFor}
     * selectors match one of its topics, in addition to the usual topic match. Replays apply the
     * same rule.
     *
     * @param message the event
     * @param topics one or more topics
     * @param restricted whether it is restricted
     * @return the event's wire id
     * @throws IllegalArgumentException if no topic is given or a topic is empty
     * @throws IllegalStateException if the broadcaster (or its log) is closed
     * @throws RuntimeException what the log failed with (see {@link #publish(SseMessage, String...)})
     */
    public String publish(SseMessage message, Collection<String> topics, boolean restricted) {
        CompletionStage<String> stored = publishAsync(message, topics, restricted);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return stored.toCompletableFuture().get();
                } catch (InterruptedException e) {
                    interrupted = true; // the event is on its way into the log: report how it ends
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause()
                            : e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException("the event log failed: " + cause, cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Publishes an event without waiting: as {@link #publish(SseMessage, Collection, boolean)},
     * but the stage completes when the log has stored the event. Concurrent publishes are stored
     * in batches (one write and one fsync for a file log). A caller may still do the work of a
     * batch (its own and others') before this returns: the logs in this process store on the
     * thread that finds the log idle. Thread-safe.
     *
     * @param message the event; its id, if any, is kept as the wire id
     * @param topics one or more topics
     * @param restricted whether it is restricted (see {@link #publish(SseMessage, Collection, boolean)})
     * @return completes with the event's wire id once stored (for the logs in this process: once
     *     queued for the matching subscribers, too); completes exceptionally when the log cannot
     *     store it (I/O error, Redis unreachable, the log closed)
     * @throws IllegalArgumentException if no topic is given or a topic is empty
     * @throws IllegalStateException if the broadcaster is closed
     * @throws NullPointerException if an argument is null
     */
    public CompletionStage<String> publishAsync(SseMessage message, Collection<String> topics, boolean restricted) {
        return publishAsync(message, topics, restricted, null);
    }

    /**
     * As {@link #publishAsync(SseMessage, Collection, boolean)}, with an idempotency key for the
     * log (see {@link EventLog#append(SseMessage, Set, boolean, String)}): a retry with the same
     * key after {@link dev.ssekit.spi.AppendOutcomeUnknownException} completes with the first
     * publish's id instead of publishing twice, on a log that honours keys (the Redis log).
     *
     * @param message the event; its id, if any, is kept as the wire id
     * @param topics one or more topics
     * @param restricted whether it is restricted
     * @param idempotencyKey a key naming this publish, or null for none
     * @return completes with the event's wire id once stored; exceptionally as the log's append
     * @throws IllegalArgumentException if no topic is given or a topic is empty
     * @throws IllegalStateException if the broadcaster is closed
     * @throws NullPointerException if the message or topics are null
     */
    public CompletionStage<String> publishAsync(SseMessage message, Collection<String> topics, boolean restricted,
            String idempotencyKey) {
        Objects.requireNonNull(message, "message");
        Set<String> topicSet = Set.copyOf(topics);
        if (topicSet.isEmpty()) {
            throw new IllegalArgumentException("publish needs at least one topic");
        }
        for (String t : topicSet) {
            if (t.isEmpty()) {
                throw new IllegalArgumentException("topics must not be empty strings");
            }
        }
        if (closed) {
            throw new IllegalStateException("the broadcaster is closed");
        }
        return (idempotencyKey == null ? log.append(message, topicSet, restricted)
                : log.append(message, topicSet, restricted, idempotencyKey)).thenApply(StoredEvent::id);
    }

    /**
     * The log's loss listener: events this node will never get (trimmed before it read them, or
     * its store's data lost). Every subscriber is told in its place in the event order: through
     * each group, behind the events already queued there, a {@code reset} notice with reason
     * {@code expired} and the id of the last event before the loss.
     */
    private void lost(String lastIdBeforeLoss) {
        if (closed) {
            return;
        }
        byte[] notice = ResumePlanner.reset(lastIdBeforeLoss, "expired");
        LOG.log(Level.WARNING, "events after {0} were lost to this node; telling its subscribers",
                lastIdBeforeLoss.isEmpty() ? "the start" : lastIdBeforeLoss);
        for (DeliveryGroup g : groups) {
            g.control(() -> {
                for (Subscriber s : byConnection.values()) {
                    if (s.group == g) {
                        s.offerControl(notice, false);
                    }
                }
            });
        }
    }

    /**
     * Hands a stored event to each delivery group that has subscribers, once per group, in
     * sequence order (on the log's follower, one event at a time): each group matches it against
     * its own subscribers on its own thread. Waits while a group's inbox is full (backpressure: the
     * log's append, and so the publisher, waits with it).
     */
    private void fanOut(StoredEvent event) {
        for (DeliveryGroup g : groups) {
            // a group without subscribers skips the event: one registering now starts after it
            // (start() reads lastSequence after registering) or replays it from history
            if (g.index.isEmpty()) {
                continue;
            }
            try {
                g.offer(event);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a delivery group; event "
                        + event.id() + " is in history but not delivered live to every group", e);
            }
        }
    }

    /** The group for a new subscriber: its transport's I/O executor's, or a lane in turn. */
    private DeliveryGroup groupFor(StreamConnection conn) {
        Executor executor = conn.deliveryExecutor();
        if (executor == null) {
            return lanes[Math.floorMod(nextLane.getAndIncrement(), lanes.length)];
        }
        DeliveryGroup g = byExecutor.get(executor);
        if (g == null) {
            g = byExecutor.computeIfAbsent(executor, this::newGroup);
        }
        return g;
    }

    private DeliveryGroup newGroup(Executor executor) {
        // one run yields after half a subscriber's bound: a healthy subscriber's write goes out
        // before its group queues more
        DeliveryGroup g = new DeliveryGroup(executor, groupCapacity, Math.max(1, delivery.maxQueuedBytes / 4),
                MAX_EVENTS_PER_RUN, Math.max(1, delivery.maxQueuedBytes / 2));
        groups.add(g);
        return g;
    }

    /**
     * Whether delivery is behind: a delivery group's inbox is full, so a {@link #publish} now would
     * wait until the group catches up. A server that must not make its publishers wait (the hub)
     * refuses the publish instead, asking the publisher to retry later.
     *
     * @return whether some group's inbox is full
     */
    public boolean isBacklogged() {
        for (DeliveryGroup g : groups) {
            if (g.full()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The counters and gauges now.
     *
     * @return a snapshot
     */
    public BroadcasterStats stats() {
        Map<CloseReason, Long> ev = new EnumMap<>(CloseReason.class);
        evictions.forEach((k, v) -> ev.put(k, v.sum()));
        long queued = 0;
        for (Subscriber s : byConnection.values()) {
            queued += s.queuedBytes(); // summed here, not counted on every enqueue: stats are rare, events are not
        }
        long backlog = 0;
        for (DeliveryGroup g : groups) {
            backlog += g.backlog();
        }
        return new BroadcasterStats(byConnection.size(), published.sum(), delivery.delivered.sum(), ev,
                delivery.dropped.sum(), queued, log.size(), log.bytes(), backlog);
    }

    /**
     * Shuts down: no more publishes or subscriptions; every subscriber gets a final {@code
     * shutdown} event carrying a {@code retry} hint (so clients come back after it), then its
     * connection closes with {@link CloseReason#SHUTDOWN}. Subscribers that cannot take the final
     * event within the write timeout are closed without it. Idempotent; returns at once.
     */
    @Override
    public void close() {
        // the follower may be waiting for a held-up group: closing the groups releases it
        synchronized (closing) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (ownsLog) {
            log.close(); // after the lock: the log's appender may be waiting for it in followed()
        }
        liveness.stop();
        byte[] last = SseMessage.builder().event("shutdown").data("").retry(shutdownRetry).build().encode();
        // through each group, behind the events it still has: the notice follows every earlier event,
        // and the group takes no later one (a publish racing with close is in history, not delivered live)
        for (DeliveryGroup g : groups) {
            g.close(() -> {
                for (Subscriber s : byConnection.values()) {
                    if (s.group == g) {
                        s.offerControl(last, true);
                    }
                }
            });
        }
        scheduler.schedule(() -> {
            for (Subscriber s : List.copyOf(byConnection.values())) {
                remove(s);
                Thread.ofVirtual().start(() -> s.connection.closeWith(CloseReason.SHUTDOWN));
            }
        }, Duration.ofNanos(writeTimeoutNanos));
    }

    /**
     * Whether {@link #close()} was called. Once true it stays true; subscribers may still be getting
     * their final event.
     *
     * @return whether this broadcaster is shut down
     */
    public boolean isClosed() {
        return closed;
    }

    /** A subscriber leaving: evicted with a reason, or cancelled (null). */
    private void leave(Subscriber s, CloseReason reason) {
        if (reason == null) {
            remove(s);
        } else {
            evictLater(s, reason);
        }
    }

    /** Evicts on a virtual thread: closing a connection may block (a stuck JDK write). */
    private void evictLater(Subscriber s, CloseReason reason) {
        if (!remove(s)) {
            return;
        }
        evictions.get(reason).increment();
        LOG.log(Level.DEBUG, "evicting SSE subscriber: {0}", reason);
        Thread.ofVirtual().name("ssekit-evict").start(() -> s.connection.closeWith(reason));
    }

    /** Removes a subscriber from every index; returns whether this call did it. */
    private boolean remove(Subscriber s) {
        if (!s.markRemoved()) {
            return false;
        }
        s.group.index.remove(s);
        byConnection.remove(s.connection, s);
        return true;
    }

    @Override
    public String toString() {
        return "Broadcaster[subscribers=" + byConnection.size() + ", log=" + log + "]";
    }

    /**
     * A subscription being set up; see {@link Broadcaster#subscription}. Not thread-safe; start it
     * once.
     */
    public final class SubscribeRequest {
        private final SseConnection connection;
        private final List<TopicSelector> selectors = new ArrayList<>();
        private List<TopicSelector> authorized = List.of();
        private String resumeFrom;

        private SubscribeRequest(SseConnection connection) {
            this.connection = connection;
        }

        /**
         * Adds topic selectors: the subscription receives events with a matching topic.
         *
         * @param selectors one or more
         * @return this request
         */
        public SubscribeRequest topics(Collection<TopicSelector> selectors) {
            for (TopicSelector t : selectors) {
                this.selectors.add(Objects.requireNonNull(t, "selector"));
            }
            return this;
        }

        /**
         * Adds topic selectors: the subscription receives events with a matching topic.
         *
         * @param selectors one or more
         * @return this request
         */
        public SubscribeRequest topics(TopicSelector... selectors) {
            return topics(List.of(selectors));
        }

        /**
         * The topics this subscriber may receive restricted events for (Mercure's {@code
         * mercure.subscribe} claim). Default: none.
         *
         * @param selectors the authorizations
         * @return this request
         */
        public SubscribeRequest authorizedFor(Collection<TopicSelector> selectors) {
            this.authorized = List.copyOf(selectors);
            return this;
        }

        /**
         * Where to resume, instead of the connection's {@code Last-Event-ID}: an event id, or
         * {@link Broadcaster#EARLIEST} for all retained history (Mercure's {@code lastEventID}
         * query parameter).
         *
         * @param lastEventId the id
         * @return this request
         */
        public SubscribeRequest resumeFrom(String lastEventId) {
            this.resumeFrom = Objects.requireNonNull(lastEventId, "lastEventId");
            return this;
        }

        /**
         * Subscribes: registers, replays, then delivers live events.
         *
         * @return the subscription; it ends by itself when the connection closes
         * @throws IllegalArgumentException if no topic selector was given, or the connection does
         *     not come from an ssekit adapter
         * @throws IllegalStateException if the connection is subscribed already, or the
         *     broadcaster is closed
         */
        public Subscription start() {
            return Broadcaster.this.start(this);
        }
    }

    /** Builds a {@link Broadcaster}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private EventLog log;
        private int historyEvents = 10_000;
        private long historyBytes = 16L << 20;
        private Duration historyAge = Duration.ofHours(1);
        private Duration heartbeat = Duration.ofSeconds(15);
        private Duration writeTimeout = Duration.ofSeconds(30);
        private long maxQueuedBytes = 1L << 20;
        private int deliveryBacklog = 1024;
        private int lanes = Math.min(4, Runtime.getRuntime().availableProcessors());
        private SlowConsumerPolicy policy = SlowConsumerPolicy.DISCONNECT;
        private Duration shutdownRetry = Duration.ofSeconds(1);
        private Scheduler scheduler = Scheduler.system();
        private Ticker ticker = Ticker.system();

        private Builder() {
        }

        /**
         * Limits of the default in-memory history; the oldest events go first.
         *
         * @param maxEvents at least 1 (default 10,000)
         * @param maxBytes at least 1 (default 16 MiB)
         * @param maxAge positive (default 1 hour)
         * @return this builder
         */
        public Builder history(int maxEvents, long maxBytes, Duration maxAge) {
            this.historyEvents = maxEvents;
            this.historyBytes = maxBytes;
            this.historyAge = Objects.requireNonNull(maxAge, "maxAge");
            return this;
        }

        /**
         * Another event log (durable in a file, shared through Redis); replaces the in-memory one
         * and its {@link #history} limits. The broadcaster follows it from {@link #build()} on (see
         * {@link EventLog#follow}), so a log serves one broadcaster. The caller closes it, after
         * the broadcaster.
         *
         * @param log the log, with no follower yet
         * @return this builder
         */
        public Builder log(EventLog log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /**
         * How long a subscriber may go without a write before it gets a heartbeat comment.
         *
         * @param heartbeat positive (default 15 s)
         * @return this builder
         */
        public Builder heartbeat(Duration heartbeat) {
            this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
            return this;
        }

        /**
         * How long one write may take before the subscriber is evicted.
         *
         * @param writeTimeout positive (default 30 s)
         * @return this builder
         */
        public Builder writeTimeout(Duration writeTimeout) {
            this.writeTimeout = Objects.requireNonNull(writeTimeout, "writeTimeout");
            return this;
        }

        /**
         * The bound on each subscriber's unwritten bytes.
         *
         * @param maxQueuedBytes at least 1 (default 1 MiB)
         * @return this builder
         */
        public Builder maxQueuedBytes(long maxQueuedBytes) {
            this.maxQueuedBytes = maxQueuedBytes;
            return this;
        }

        /**
         * How many events may wait for one delivery group (one Netty event loop, or one lane) before
         * {@link Broadcaster#publish} waits for it, and {@link Broadcaster#isBacklogged()} says so.
         * The bound on what a publisher that outruns delivery can make the broadcaster hold. A group
         * also counts as full once its waiting events' bytes reach a quarter of {@link
         * #maxQueuedBytes}, so that a healthy subscriber's queue is not flooded with a whole backlog
         * of large events at once.
         *
         * @param events at least 1 (default 1,024)
         * @return this builder
         */
        public Builder deliveryBacklog(int events) {
            this.deliveryBacklog = events;
            return this;
        }

        /**
         * How many delivery lanes serve connections whose server has no I/O thread per connection
         * (the JDK server, Servlet containers): each lane matches and queues events for its share of
         * those subscribers on a virtual thread of its own. Netty connections are delivered on
         * their event loops instead.
         *
         * @param lanes at least 1 (default: the processors, at most 4)
         * @return this builder
         */
        public Builder deliveryLanes(int lanes) {
            this.lanes = lanes;
            return this;
        }

        /**
         * What happens when a subscriber's queue is full.
         *
         * @param policy the policy (default {@link SlowConsumerPolicy#DISCONNECT})
         * @return this builder
         */
        public Builder slowConsumerPolicy(SlowConsumerPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * The {@code retry} hint in the final event at {@link Broadcaster#close()}.
         *
         * @param retry zero or more (default 1 s)
         * @return this builder
         */
        public Builder shutdownRetry(Duration retry) {
            this.shutdownRetry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /**
         * The shared timer for heartbeats and write deadlines.
         *
         * @param scheduler the scheduler (default {@link Scheduler#system()})
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * The time source for idleness, write deadlines and history age.
         *
         * @param ticker the ticker (default {@link Ticker#system()})
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Validates and builds; starts the sweep timer and follows the log.
         *
         * @return the broadcaster
         * @throws IllegalArgumentException naming the setting and value when one is out of range
         * @throws IllegalStateException if the log has a follower already
         */
        public Broadcaster build() {
            positive("heartbeat", heartbeat);
            positive("writeTimeout", writeTimeout);
            if (deliveryBacklog < 1) {
                throw new IllegalArgumentException("deliveryBacklog must be at least 1: " + deliveryBacklog);
            }
            if (lanes < 1) {
                throw new IllegalArgumentException("deliveryLanes must be at least 1: " + lanes);
            }
            if (maxQueuedBytes < 1) {
                throw new IllegalArgumentException("maxQueuedBytes must be at least 1: " + maxQueuedBytes);
            }
            if (shutdownRetry.isNegative()) {
                throw new IllegalArgumentException("shutdownRetry must not be negative: " + shutdownRetry);
            }
            // the in-memory log validates the history limits, naming them
            boolean own = log == null;
            EventLog l = own ? EventLog.inMemory(historyEvents, historyBytes, historyAge, ticker) : log;
            Broadcaster b = new Broadcaster(this, l, own);
            try {
                l.follow(b::followed, b::lost);
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            return b;
        }

        private static void positive(String name, Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
        }
    }
}
