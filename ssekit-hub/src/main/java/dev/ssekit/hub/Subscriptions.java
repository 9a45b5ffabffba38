package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hub's subscribers and Mercure 1.0's active subscriptions (draft-dunglas-mercure-08, "Active
 * Subscriptions", L995-1158): each subscriber gets an IRI ({@code urn:uuid:…}, random per connection);
 * each of its matchers is a {@link Subscription} with the id {@code
 * /.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}}, each variable
 * percent-encoded exactly once (RFC 6570 simple expansion, {@link #encode}). With {@code events} on,
 * a subscription's start and end are published as private JSON updates on that id as topic, with the
 * SSE event type {@code mercure}. In compatibility mode 8, a 0.x {@code topic=} subscription keeps its
 * v8 id and document ({@link LegacySubscriptions}).
 *
 * <p>What a subscriber's own request costs is bounded and linear in its size (issue #28): the updates
 * go to a broadcaster of their own ({@link #announcements()}, a small in-memory history), never to the
 * hub's history, so they never evict a published update; only {@link #watch watchers} (subscribers with a
 * token, one of whose matchers can match a subscription's topic) are
 * matched against them, never the hub's other subscribers; an anonymous subscriber's first {@link
 * #ANONYMOUS_BUDGET} subscriptions are announced, the rest only listed. Each update's id is its own
 * ({@link #ID_PREFIX}{@code <position>/<hub event id>}): a watcher that reconnects with it resumes the
 * updates after it and the hub's updates after the hub event it names, none twice. The API lists the
 * live state.
 *
 * <p>In a cluster (a {@link dev.ssekit.redis.RedisPresence} on the hub's Redis): subscribers are kept
 * in Redis, each node's for as long as the node heartbeats; updates go through the presence's own
 * stream ({@code MAXLEN ~}, never the hub's history), read and announced by every node in stream
 * order; positions are the stream's entry ids, the same on every node, so an update's id resumes on
 * any node. A node that dies (its heartbeat expired) or closes has each subscription's "active: false"
 * update appended once, by the first node that notices (see {@link dev.ssekit.redis.RedisPresence}),
 * as its subscriptions leave the listing; one that comes back announces what it still holds as
 * "active: true" again. The API on any node lists every live node's subscriptions; its ETag counts the cluster's
 * changes. Its cursor is the hub's newest event id on the node that answered, recorded against this
 * node's position in the updates: resuming with it on that node replays exactly the updates read
 * since; on another node (or once more than {@link #ANNOUNCED_HISTORY} cursors were handed out since)
 * it replays the updates made since that hub event was the newest, which may repeat a few the listing
 * already showed, and loses none the history still holds. The status feed and the subscriber count
 * stay this node's.
 *
 * <p>Thread-safety: {@link #activate} and {@link #end} of one subscriber must run on one thread in
 * order (the hub runs both on the subscriber's event loop), so its "active: true" update always
 * precedes its "active: false"; different subscribers and the read methods may run on any thread.
 */
final class Subscriptions {

    static final String PATH = MercureProtocol.PATH + "/subscriptions";
    /** The SSE event type of every update the hub makes itself (L1063-1072); publishers may not use it. */
    static final String EVENT_TYPE = "mercure";
    private static final System.Logger LOG = System.getLogger(Subscriptions.class.getName());

    /** How many of an anonymous subscriber's subscriptions are announced (all are listed). */
    static final int ANONYMOUS_BUDGET = 32;
    /**
     * In a cluster, how many bytes of one subscriber's entry go to Redis (and of its updates' documents):
     * its subscriptions are listed and announced cluster-wide up to this size (at least one), in request
     * order; the rest are neither (the node itself holds them all, and they match as usual).
     */
    static final int CLUSTER_ENTRY_BYTES = 64 * 1024;
    /** How many subscription updates the announcements' history keeps, for watchers that start meanwhile. */
    static final int ANNOUNCED_HISTORY = 1000;

    /**
     * One subscription of a subscriber: what its id and its document say of the matcher it was made
     * with, and the payload its token gives it. Implementations are immutable.
     */
    interface Subscription {

        /** The matcher string, as the subscriber sent it. */
        String value();

        /**
         * The part of its id between {@code PATH/} and {@code /{subscriber}}: the matcher's variables,
         * each percent-encoded once. Two subscriptions of one subscriber have the same path exactly
         * when they have the same matcher.
         */
        String path();

        /** Puts the members naming the matcher into the document, in order. */
        void describe(Map<String, Object> document);

        /** The payload shown in its events and in the API (L848-870), if any. */
        Optional<Object> payload();
    }

    /**
     * A Mercure 1.0 subscription: {@code match_type}, {@code match}.
     *
     * @param matcher the subscription's matcher
     * @param payload the payload of the first {@code subscribe} detail of the token whose topics match
     *     the matcher's value taken as a topic (row 52)
     */
    record Match(Matcher matcher, Optional<Object> payload) implements Subscription {

        @Override
        public String value() {
            return matcher.value();
        }

        @Override
        public String path() {
            return encode(matcher.type()) + "/" + encode(matcher.value());
        }

        @Override
        public void describe(Map<String, Object> document) {
            document.put("match_type", matcher.type());
            document.put("match", matcher.value());
        }
    }

    /**
     * One subscriber: its IRI, its subscriptions (in request order), and whether it came without a token.
     */
    record Subscriber(String id, List<Subscription> subscriptions, boolean anonymous) {
        Subscriber {
            subscriptions = List.copyOf(subscriptions);
        }
    }

    private final Broadcaster hub;
    /** Where the subscription updates go; null when {@link #events} is off. */
    private final Broadcaster announcements;
    private final boolean events;
    /** By id: sorted, so the first rows are read without sorting them all (the status feed, each second). */
    private final java.util.concurrent.ConcurrentNavigableMap<String, Subscriber> active = new java.util.concurrent.ConcurrentSkipListMap<>();
    /** The active subscriptions: the sum of the active subscribers' subscriptions. */
    private final AtomicInteger rows = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    /** How many times a subscriber was listed or unlisted: the subscriptions API's ETag changes with it. */
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
    /** Subscribers looked at by {@link #list} and {@link #first}: the status feed's work, counted for its test. */
    private final java.util.concurrent.atomic.LongAdder examined = new java.util.concurrent.atomic.LongAdder();
    /**
     * For a hub event id, the announcements' newest id when that id was first handed out as a cursor
     * by the API's {@code Link}: a watcher resuming with it replays every update made since
     * (L1143-1147). The oldest entries go first: at most {@link #ANNOUNCED_HISTORY}; one that went is
     * resumed from the updates' stamps instead ({@link #resumePoint}), without loss.
     */
    private final Map<String, String> cursors = new java.util.LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > ANNOUNCED_HISTORY;
        }
    };
    /** Each announcing subscriber's newest update, stored or not yet: the next one waits for it. */
    private final Map<String, CompletionStage<Void>> announced = new ConcurrentHashMap<>();
    /**
     * The other nodes of a cluster on Redis (null: this hub is alone): subscribers are kept there and
     * their updates go through its stream, which every node (this one too) reads and announces.
     */
    private final dev.ssekit.redis.RedisPresence cluster;
    /**
     * The updates the announcements' history holds, by position (oldest first, at most {@link
     * #ANNOUNCED_HISTORY}): where a watcher resumes from an update's id, or from a hub event id.
     */
    private final java.util.concurrent.ConcurrentSkipListMap<Position, Announced> index = new java.util.concurrent.ConcurrentSkipListMap<>();
    /** Updates are numbered, stamped and published one at a time, so the index is in publishing order. */
    private final Object delivering = new Object();
    /** The positions of a hub alone: {@code <start ms>-<n>}, so those of an earlier run of the process are older. */
    private final long epoch = System.currentTimeMillis();
    private long next;

    /**
     * @param hub the hub's broadcaster: its newest event id is part of each update's id
     * @param events whether subscription updates are published (on a broadcaster of their own, which
     *     {@link #close()} closes)
     */
    Subscriptions(Broadcaster hub, boolean events) {
        this(hub, events, null);
    }

    /**
     * A hub that is one node of a cluster: with {@code events} on, its subscribers are listed and
     * announced on every node through {@code cluster}, which {@link #close()} closes.
     *
     * @param cluster the cluster's presence, or null for a hub alone
     */
    Subscriptions(Broadcaster hub, boolean events, dev.ssekit.redis.RedisPresence cluster) {
        this.hub = hub;
        this.events = events;
        this.announcements = events
                ? Broadcaster.builder().history(ANNOUNCED_HISTORY, 8L << 20, java.time.Duration.ofHours(1)).build() : null;
        this.cluster = events ? cluster : null;
        if (this.cluster != null) {
            // the updates made before this node started too (as many as the history keeps): a watcher
            // resuming here with the id of one made before gets those after it
            this.cluster.follow(ANNOUNCED_HISTORY, r -> deliver(Position.parse(r.position()), r.topic(), r.data())
                    .whenComplete((id, e) -> {
                        if (e != null) {
                            LOG.log(Level.DEBUG, "subscription update {0} not announced: {1}", r.position(), e.toString());
                        }
                    }));
        } else if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A position in the updates' order: a Redis stream entry id in a cluster (the same on every
     * node), {@code <start ms>-<n>} for a hub alone.
     */
    record Position(long ms, long seq) implements Comparable<Position> {

        static Position parse(String s) {
            int dash = s.indexOf('-');
            if (dash <= 0) {
                throw new IllegalArgumentException("not a position: " + s);
            }
            return new Position(Long.parseLong(s.substring(0, dash)), Long.parseLong(s.substring(dash + 1)));
        }

        @Override
        public int compareTo(Position o) {
            int c = Long.compare(ms, o.ms);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }

        @Override
        public String toString() {
            return ms + "-" + seq;
        }
    }

    /** An update in the announcements' history: its SSE id, and the sequence of the hub's newest event when it was made. */
    private record Announced(String id, long hubSequence) {
    }

    /**
     * The SSE id of a subscription update: {@code #subscriptions@<position>/<hub event id>}. A hub
     * generated id ({@code #…}, which publishers may not use, row 19) naming both where the update
     * is among the updates and the hub's newest event when it was announced here: a watcher resuming
     * with it gets the updates after it and the hub's events after that one, none twice.
     */
    static final String ID_PREFIX = "#subscriptions@";

    /** The hub event id in an update's id ({@link #ID_PREFIX}), or {@code id} itself when it is not one. */
    static String hubCursor(String id) {
        if (id.startsWith(ID_PREFIX)) {
            int slash = id.indexOf('/', ID_PREFIX.length());
            if (slash > 0) {
                return id.substring(slash + 1);
            }
        }
        return id;
    }

    /** The position in an update's id, if it is one. */
    static Optional<Position> position(String id) {
        if (!id.startsWith(ID_PREFIX)) {
            return Optional.empty();
        }
        int slash = id.indexOf('/', ID_PREFIX.length());
        try {
            return Optional.of(Position.parse(id.substring(ID_PREFIX.length(), slash < 0 ? id.length() : slash)));
        } catch (IllegalArgumentException e) { // NumberFormatException too
            return Optional.empty();
        }
    }

    /**
     * Announces one update: numbers it (a hub alone) or takes its stream position (a cluster), stamps
     * it with the hub's newest event, publishes it on the announcements and indexes it.
     */
    private CompletionStage<String> deliver(Position given, String topic, String data) {
        synchronized (delivering) {
            Position at = given != null ? given : new Position(epoch, ++next);
            String hubId = hub.lastEventId().orElse(Broadcaster.EARLIEST);
            long hubSequence = hubId.equals(Broadcaster.EARLIEST) ? 0 : hub.log().sequenceOf(hubId).orElse(hub.log().lastSequence());
            String id = ID_PREFIX + at + "/" + hubId;
            CompletionStage<String> stored;
            try {
                stored = announcements.publishAsync(SseMessage.builder().event(EVENT_TYPE).data(data).id(id).build(), List.of(topic), true);
            } catch (RuntimeException e) { // closed
                return CompletableFuture.failedFuture(e);
            }
            index.put(at, new Announced(id, hubSequence));
            while (index.size() > ANNOUNCED_HISTORY) {
                index.pollFirstEntry();
            }
            return stored;
        }
    }

    /**
     * Where a watcher resumes the announcements from its cursor: after the update an update's id
     * names (all that is kept when it is older than the history: none lost); after the position the
     * subscriptions API recorded for a hub event id it handed out; for another hub event id still in
     * the hub's history, after the last update made before that event was the newest (none lost; an
     * update made while it was the newest may come again); null (from now) for an unknown id.
     */
    private String resumePoint(Optional<String> cursor) {
        if (cursor.isEmpty()) {
            return null;
        }
        Optional<Position> at = position(cursor.get());
        if (at.isPresent()) {
            if (index.isEmpty()) {
                return null;
            }
            Map.Entry<Position, Announced> before = index.floorEntry(at.get());
            return before == null ? Broadcaster.EARLIEST : before.getValue().id();
        }
        synchronized (cursors) {
            String recorded = cursors.get(cursor.get());
            if (recorded != null) {
                return recorded;
            }
        }
        java.util.OptionalLong sequence = cursor.get().equals(Broadcaster.EARLIEST) ? java.util.OptionalLong.of(0)
                : hub.log().sequenceOf(cursor.get());
        if (sequence.isEmpty()) {
            return null;
        }
        for (Map.Entry<Position, Announced> e : index.descendingMap().entrySet()) {
            if (e.getValue().hubSequence() < sequence.getAsLong()) {
                return e.getValue().id();
            }
        }
        return Broadcaster.EARLIEST;
    }

    /**
     * Whether {@code cursor} is a subscription update's id older than every update this node holds
     * (in a cluster: the last {@link #ANNOUNCED_HISTORY} of the stream when it started, and those read
     * since): a watcher resuming with it gets every update held, and may have missed some before them.
     * The hub then answers {@code Mercure-Last-Event-ID: earliest}, as for a hub event id it no longer holds.
     */
    boolean olderThanHistory(String cursor) {
        Optional<Position> at = position(cursor);
        if (at.isEmpty() || !events) {
            return false;
        }
        Map.Entry<Position, Announced> oldest = index.firstEntry();
        return oldest != null && at.get().compareTo(oldest.getKey()) < 0;
    }

    /** The broadcaster of the subscription updates (events on), or null. */
    Broadcaster announcements() {
        return announcements;
    }

    /**
     * Delivers the subscription updates to a subscriber's stream when it watches them: it has a token
     * and one of its matchers can match an update's topic ({@link TopicPrefixes#mayMatchUnder}: {@code *},
     * the spec's watcher {@code match_urlpattern=/.well-known/mercure/subscriptions/:match_type/:match/:subscriber},
     * {@code https://*}{@code /*}; not a matcher of another host or path); a private update reaches it when
     * {@code authorized} matches its topic. Call once the stream has started on the hub.
     *
     * @param connection the stream
     * @param subscriptions the subscriber's subscriptions
     * @param selectors their matchers, compiled, in the same order
     * @param authorized its token's subscribe selectors, compiled
     * @param cursor the subscriber's {@code last_event_id} (or {@code Last-Event-ID}), if any: when it
     *     is an update's id, or a hub event id this hub still holds, the updates made since are
     *     replayed first ({@link #resumePoint}); otherwise it gets those made from now on
     * @throws IllegalStateException if the announcements are closed (the hub is closing)
     */
    void watch(dev.ssekit.SseConnection connection, List<? extends Subscription> subscriptions,
            List<dev.ssekit.TopicSelector> selectors, List<dev.ssekit.TopicSelector> authorized, Optional<String> cursor) {
        if (!events || authorized.isEmpty()) {
            return;
        }
        List<dev.ssekit.TopicSelector> watched = new ArrayList<>();
        for (dev.ssekit.TopicSelector selector : selectors) {
            // can it match an update's topic: PATH/…, or, resolved, PATH/… or (a v8 topic "..") …/mercure/urn%3Auuid%3A…
            if (TopicPrefixes.mayMatchUnder(selector, PATH + "/")
                    || TopicPrefixes.mayMatchUnder(selector, MercureProtocol.PATH + "/urn%3Auuid%3A")) {
                watched.add(selector);
            }
        }
        if (watched.isEmpty()) {
            return;
        }
        // from the cursor's position, or from now on: the updates before it describe subscriptions the API listed
        String since = resumePoint(cursor);
        announcements.subscription(connection).topics(watched).authorizedFor(authorized)
                .resumeFrom(since != null ? since : announcements.lastEventId().orElse(Broadcaster.EARLIEST)).start();
    }

    /**
     * The hub's cursor for the subscriptions API's {@code Link} (the hub's newest event id), remembering
     * where the announcements were when it was first handed out. Call before reading the subscriptions
     * listed with it: whatever changes after is in an update a watcher resuming with the cursor replays
     * (in a cluster: read from Redis after, so the listing holds at least what was announced here before).
     */
    String cursor() {
        String position = announcements == null ? Broadcaster.EARLIEST : announcements.lastEventId().orElse(Broadcaster.EARLIEST);
        String cursor = hub.lastEventId().orElse(Broadcaster.EARLIEST);
        if (events) {
            synchronized (cursors) {
                cursors.putIfAbsent(cursor, position);
            }
        }
        return cursor;
    }

    /** Closes the announcements (their watchers' streams end). Idempotent. */
    void close() {
        if (cluster != null) {
            cluster.close(); // this node's subscribers leave the cluster's list at once
        }
        if (announcements != null) {
            announcements.close();
        }
    }

    /** Whether subscription updates are published (and the subscriptions API is served). */
    boolean enabled() {
        return events;
    }

    /**
     * Takes one of {@code max} subscriber slots for a subscriber with a token whose subscriptions
     * are {@code exact} matchers of these values, each with this payload (the status page's viewers,
     * which hold no subscription, and tests).
     *
     * @return the new subscriber, or empty when all slots are taken
     */
    Optional<Subscriber> reserve(int max, List<String> exact, Optional<Object> payload) {
        return reserve(max, exact.stream().<Subscription>map(m -> new Match(Matcher.exact(m), payload)).toList(), false);
    }

    /**
     * Takes one of {@code max} subscriber slots for a subscriber with or without a token.
     *
     * @param max the most subscribers at once
     * @param subscriptions its subscriptions, in request order
     * @param anonymous whether it came without a token (then only {@link #ANONYMOUS_BUDGET} are announced)
     * @return the new subscriber, with a new random id, or empty when all slots are taken
     */
    Optional<Subscriber> reserve(int max, List<? extends Subscription> subscriptions, boolean anonymous) {
        if (connections.incrementAndGet() > max) {
            connections.decrementAndGet();
            return Optional.empty();
        }
        return Optional.of(new Subscriber("urn:uuid:" + UUID.randomUUID(), List.copyOf(subscriptions), anonymous));
    }

    /** The subscriber is receiving: listed, and its subscriptions announced as active. */
    void activate(Subscriber s) {
        if (active.put(s.id(), s) == null) {
            rows.addAndGet(s.subscriptions().size());
            changes.incrementAndGet();
        }
        if (cluster != null) {
            // the farewells (should this node die) are the announced ones too
            cluster.put(s.id(), entry(s), clusterNotices(s, true), clusterNotices(s, false));
        } else {
            announce(s, true);
        }
    }

    /** The subscriber's stream ended: its slot is free, its subscriptions announced as inactive. */
    void end(Subscriber s) {
        connections.decrementAndGet();
        if (active.remove(s.id()) != null) {
            rows.addAndGet(-s.subscriptions().size());
            changes.incrementAndGet();
            if (cluster != null) {
                cluster.remove(s.id(), clusterNotices(s, false));
            } else {
                announce(s, false);
            }
        }
    }

    /** A reserved subscriber that never started (its client left first): only its slot is freed. */
    void release(Subscriber s) {
        connections.decrementAndGet();
    }

    /**
     * How many times a subscriber was listed or unlisted so far: read before a listing, it tells
     * whether the listing may have changed since (the subscriptions API's ETag). Thread-safe.
     */
    long changes() {
        return changes.get();
    }

    /** Subscribers holding a slot (receiving, or about to). */
    int connections() {
        return connections.get();
    }

    private void announce(Subscriber s, boolean isActive) {
        if (!events) {
            return;
        }
        // publishes complete on other threads, in any order: each update of a subscriber starts once
        // the one before is stored, so its subscriptions are announced in request order and its
        // "active: false" never precedes its "active: true"
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletionStage<Void> chain = announced.put(s.id(), done);
        if (chain == null) {
            chain = CompletableFuture.completedFuture(null);
        }
        for (dev.ssekit.redis.RedisPresence.Notice notice : notices(s, isActive)) {
            // private (L1063), with the reserved event type so that listeners tell them from updates (L1063-1072);
            // numbered and stamped when published (deliver), on a virtual thread as the hub's own publishes
            chain = chain.thenCompose(v -> CompletableFuture.supplyAsync(() -> deliver(null, notice.topic(), notice.data()),
                    task -> Thread.ofVirtual().name("ssekit-hub-announce").start(task)).thenCompose(stored -> stored)
                    .<Void>handle((id, e) -> {
                        if (e != null) {
                            // the hub is closing, or history cannot store: the subscription itself is unaffected
                            LOG.log(Level.DEBUG, "subscription update for {0} not published: {1}", s.id(), e.toString());
                        }
                        return null;
                    }));
        }
        chain.whenComplete((v, e) -> {
            done.complete(null);
            if (!isActive) {
                announced.remove(s.id(), done); // its last update: nothing follows
            }
        });
    }

    /**
     * A subscriber's updates: one per subscription, as documents of the update's topic; an anonymous
     * subscriber's first {@link #ANONYMOUS_BUDGET} only (issue #28: what one request makes the hub send,
     * here or to Redis, stays bounded).
     */
    static List<dev.ssekit.redis.RedisPresence.Notice> notices(Subscriber s, boolean isActive) {
        List<Subscription> shown = shown(s);
        List<dev.ssekit.redis.RedisPresence.Notice> out = new ArrayList<>(shown.size());
        for (Subscription subscription : shown) {
            out.add(new dev.ssekit.redis.RedisPresence.Notice(id(subscription, s.id()), write(json(s, subscription, isActive))));
        }
        return out;
    }

    /** The subscriptions announced: an anonymous subscriber's first {@link #ANONYMOUS_BUDGET}, any other's all. */
    private static List<Subscription> shown(Subscriber s) {
        return s.anonymous() && s.subscriptions().size() > ANONYMOUS_BUDGET
                ? s.subscriptions().subList(0, ANONYMOUS_BUDGET) : s.subscriptions();
    }

    /**
     * A subscriber as a cluster entry: {@code {"id": …, "rows": [{"path": …, "doc": {…}}, …]}}, its
     * documents active; of an anonymous subscriber the first {@link #ANONYMOUS_BUDGET} subscriptions at
     * most, of any subscriber those whose rows fit {@link #CLUSTER_ENTRY_BYTES} (at least one): what one
     * connection keeps in Redis, and every listing reads, stays bounded.
     */
    static String entry(Subscriber s) {
        StringBuilder rows = new StringBuilder();
        for (String row : clusterRows(s)) {
            rows.append(rows.isEmpty() ? "" : ",").append(row);
        }
        return "{\"id\":" + write(s.id()) + ",\"rows\":[" + rows + "]}";
    }

    /** The rows of {@link #entry}, each as JSON, within the budgets. */
    private static List<String> clusterRows(Subscriber s) {
        List<String> out = new ArrayList<>();
        long bytes = 0;
        for (Subscription subscription : shown(s)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("path", subscription.path());
            row.put("doc", json(s, subscription, true));
            String json = write(row);
            bytes += json.getBytes(UTF_8).length + 1;
            if (!out.isEmpty() && bytes > CLUSTER_ENTRY_BYTES) {
                break;
            }
            out.add(json);
        }
        return out;
    }

    /**
     * A subscriber's updates in a cluster: {@link #notices} of the subscriptions its {@link #entry}
     * lists (the same budgets), so the cluster announces what it lists.
     */
    static List<dev.ssekit.redis.RedisPresence.Notice> clusterNotices(Subscriber s, boolean isActive) {
        int n = clusterRows(s).size();
        List<dev.ssekit.redis.RedisPresence.Notice> all = notices(s, isActive);
        return all.subList(0, Math.min(n, all.size()));
    }

    /**
     * What the subscriptions API answers: the ETag's change count, the cursor, and the listing
     * (computed on demand: a 304 does not list).
     *
     * @param changes in a cluster, the cluster's change count
     * @param cursor the hub event id for the {@code Link}
     * @param rows the subscriptions listed
     */
    record Snapshot(long changes, String cursor, java.util.function.Supplier<List<Map<String, Object>>> rows) {
    }

    /**
     * The subscriptions API's answer, as {@link #list}, {@link #changes} and {@link #cursor}: a hub
     * alone answers at once; a cluster node lists every live node's subscriptions from Redis (the
     * cursor recorded first: a change after it is in an update a watcher resuming with it gets).
     *
     * @return completes with the snapshot; exceptionally with a 503 {@link Rejection} when Redis cannot answer
     */
    CompletionStage<Snapshot> snapshot(Optional<String> path, Optional<String> subscriber) {
        return snapshot(path, subscriber, cursor -> java.util.Set.of());
    }

    /**
     * As {@link #snapshot(Optional, Optional)}; in a cluster, when the change count is one of those
     * {@code known} gives for the cursor (the client's {@code If-None-Match}), no node's subscriptions
     * are read from Redis: the answer is a 304, whose snapshot has no rows ({@link Snapshot#rows()}
     * throws {@link IllegalStateException}).
     *
     * @param known for the cursor, the change counts of the listings the client holds
     */
    CompletionStage<Snapshot> snapshot(Optional<String> path, Optional<String> subscriber,
            java.util.function.Function<String, java.util.Set<Long>> known) {
        if (cluster == null) {
            long c = changes();
            String cursor = cursor();
            return CompletableFuture.completedFuture(new Snapshot(c, cursor, () -> list(path, subscriber)));
        }
        String cursor = cursor();
        return cluster.list(known.apply(cursor)).handle((listing, e) -> {
            if (e != null) {
                throw new java.util.concurrent.CompletionException(new Rejection(503,
                        "the cluster's subscriptions cannot be read from Redis now; retry later", 5));
            }
            if (!listing.listed()) {
                return new Snapshot(listing.version(), cursor, () -> {
                    throw new IllegalStateException("not listed: the client holds this listing (answer 304)");
                });
            }
            return new Snapshot(listing.version(), cursor, () -> clusterRows(listing.values(), path, subscriber));
        });
    }

    /** The cluster's entries as {@link #list} orders and filters them. */
    private List<Map<String, Object>> clusterRows(List<String> values, Optional<String> path, Optional<String> subscriber) {
        java.util.TreeMap<String, List<?>> byId = new java.util.TreeMap<>();
        for (String v : values) {
            try {
                Map<String, Object> m = JSON.std.mapFrom(v);
                String id = (String) m.get("id");
                if (subscriber.isEmpty() || subscriber.get().equals(id)) {
                    byId.put(id, (List<?>) m.get("rows"));
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "a cluster subscription entry is not readable, skipped: {0}", e.toString());
            }
        }
        examined.add(byId.size());
        List<Map<String, Object>> out = new ArrayList<>();
        for (List<?> rowsOf : byId.values()) {
            for (Object r : rowsOf) {
                Map<?, ?> row = (Map<?, ?>) r;
                if (path.isEmpty() || path.get().equals(row.get("path"))) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> doc = (Map<String, Object>) row.get("doc");
                    out.add(doc);
                }
            }
        }
        return out;
    }

    /** The id (and update topic) of one subscription: {@code PATH/{match_type}/{match}/{subscriber}} (L1009-1040). */
    static String id(Subscription subscription, String subscriber) {
        return PATH + "/" + subscription.path() + "/" + encode(subscriber);
    }

    /**
     * The subscription's document (L1042-1061), members in the spec's order: {@code id}, {@code type},
     * the matcher's ({@code match_type}, {@code match}; a v8 subscription's {@code topic}), {@code
     * subscriber}, {@code active}, and {@code payload} when the token gives one.
     */
    static Map<String, Object> json(Subscriber s, Subscription subscription, boolean isActive) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id(subscription, s.id()));
        m.put("type", "subscription");
        subscription.describe(m);
        m.put("subscriber", s.id());
        m.put("active", isActive);
        subscription.payload().ifPresent(p -> m.put("payload", p));
        return m;
    }

    /**
     * The active subscriptions, ordered by subscriber then request order, for the subscriptions API:
     * all of them, those with one matcher, or that one subscriber's with that matcher.
     *
     * @param path the matcher part of the requested path, as {@link Subscription#path()} spells it
     *     (every variable decoded and re-encoded once); empty: every matcher
     * @param subscriber the subscriber's id, decoded; empty: every subscriber
     */
    List<Map<String, Object>> list(Optional<String> path, Optional<String> subscriber) {
        List<Subscriber> subscribers = subscriber.isPresent()
                ? Optional.ofNullable(active.get(subscriber.get())).stream().toList()
                : new ArrayList<>(active.values()); // a sorted map: by id
        examined.add(subscribers.size());
        List<Map<String, Object>> out = new ArrayList<>();
        for (Subscriber s : subscribers) {
            for (Subscription subscription : s.subscriptions()) {
                if (path.isEmpty() || path.get().equals(subscription.path())) {
                    out.add(json(s, subscription, true));
                }
            }
        }
        return out;
    }

    /**
     * The first {@code max} active subscriptions in {@link #list}'s order and the
     * count of all: looks at the first subscribers only, whatever their number (the status feed's
     * snapshot, every second). Weakly consistent with concurrent changes; thread-safe.
     */
    First first(int max) {
        int total = rows.get();
        List<Map<String, Object>> out = new ArrayList<>(Math.min(max, Math.max(total, 0)));
        for (Subscriber s : active.values()) {
            if (out.size() >= max) {
                break;
            }
            examined.increment();
            for (Subscription subscription : s.subscriptions()) {
                if (out.size() < max) {
                    out.add(json(s, subscription, true));
                }
            }
        }
        return new First(out, total);
    }

    /**
     * What a subscriptions API request names: one matcher's subscriptions or all, one subscriber's or all.
     *
     * @param path the matcher part of the path, as {@link Subscription#path()} spells it; empty: all
     * @param subscriber the subscriber's id; empty: all (a collection)
     */
    record Target(Optional<String> path, Optional<String> subscriber) {
    }

    /**
     * Reads a subscriptions API path (L1096-1102): {@code PATH}, {@code PATH/{match_type}/{match}},
     * {@code PATH/{match_type}/{match}/{subscriber}}; in compatibility mode also the v8 {@code
     * PATH/{topic}} and {@code PATH/{topic}/{subscriber}}, where a two-segment path is 1.0's only when
     * its first segment is a match type ({@link LegacySubscriptions#target}). Runs before the token is
     * looked at: a malformed path is 400 whatever the token.
     *
     * @param rest the raw path after {@link #PATH}
     * @param compat whether the v8 paths are served
     * @return the target, or empty when no route has this shape (404)
     * @throws Rejection 400 for a segment that is not percent-encoded UTF-8, or a match type this hub does not know
     */
    static Optional<Target> target(String rest, boolean compat) throws Rejection {
        if (rest.isEmpty()) {
            return Optional.of(new Target(Optional.empty(), Optional.empty()));
        }
        if (!rest.startsWith("/")) {
            return Optional.empty();
        }
        String[] raw = rest.substring(1).split("/", -1);
        if (raw.length > 3 || java.util.Arrays.stream(raw).anyMatch(String::isEmpty)) {
            return Optional.empty();
        }
        List<String> segments = new ArrayList<>(raw.length);
        for (String r : raw) {
            try {
                segments.add(Forms.pathSegment(r));
            } catch (IllegalArgumentException e) {
                throw new Rejection(400, "invalid segment in the subscriptions API path: " + e.getMessage());
            }
        }
        String type = segments.getFirst();
        boolean typed = type.equals(Matcher.EXACT) || type.equals(Matcher.URLPATTERN);
        if (raw.length == 1 || raw.length == 2 && !typed) {
            if (compat) {
                return Optional.of(LegacySubscriptions.target(segments));
            }
            if (raw.length == 1) {
                return Optional.empty();
            }
        }
        if (!typed) {
            String shown = type.length() > 64 ? type.substring(0, 64) + "…" : type;
            throw new Rejection(400, "unsupported match type: " + (MercureText.firstForbidden(shown) == null ? shown : "(control characters)")
                    + " (this hub supports " + Matcher.EXACT + " and " + Matcher.URLPATTERN + ")");
        }
        return Optional.of(new Target(Optional.of(encode(type) + "/" + encode(segments.get(1))),
                segments.size() == 3 ? Optional.of(segments.get(2)) : Optional.empty()));
    }

    /** The first rows, and how many there are in all. */
    record First(List<Map<String, Object>> rows, int count) {
    }

    /** Subscribers looked at so far by the listing methods (a work count, for tests). */
    long examined() {
        return examined.sum();
    }

    static String write(Object json) {
        try {
            return JSON.std.asString(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // only maps, lists, strings, numbers and booleans: cannot happen
        }
    }

    /** RFC 3986 unreserved characters stay, every other UTF-8 byte becomes %XX (RFC 6570 simple expansion). */
    static String encode(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (byte x : s.getBytes(UTF_8)) {
            int c = x & 0xff;
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

}
