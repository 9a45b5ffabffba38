package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
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
 * The hub's subscribers and Mercure's active subscriptions (draft 07, "Active Subscriptions"): each
 * subscriber gets an IRI ({@code urn:uuid:…}); each of its topic selectors is a subscription with
 * the id {@code /.well-known/mercure/subscriptions/{selector}/{subscriber}} (both percent-encoded
 * like RFC 6570 simple expansion). With {@code events} on, a subscription's start and end are
 * published as private JSON-LD updates on that id as topic.
 *
 * <p>What a subscriber's own request costs is bounded and linear in its size (issue #28): the updates
 * go to a broadcaster of their own ({@link #announcements()}, a small in-memory history), never to the
 * hub's history, so they never evict a published update; only {@link #watch watchers} (subscribers with a
 * token, one of whose selectors is {@code *} or names {@link #PATH}) are matched against them, never the
 * hub's other subscribers; an anonymous subscriber's first {@link #ANONYMOUS_BUDGET} selectors are
 * announced, the rest only listed. Each update carries as id the hub's newest event id when it was made:
 * a watcher that reconnects with it resumes the hub's updates where it was. The API lists the live state.
 *
 * <p>Thread-safety: {@link #activate} and {@link #end} of one subscriber must run on one thread in
 * order (the hub runs both on the subscriber's event loop), so its "active: true" update always
 * precedes its "active: false"; different subscribers and the read methods may run on any thread.
 */
final class Subscriptions {

    static final String PATH = MercureProtocol.PATH + "/subscriptions";
    static final String CONTEXT = "https://mercure.rocks/";
    private static final System.Logger LOG = System.getLogger(Subscriptions.class.getName());

    /** How many of an anonymous subscriber's selectors are announced (all are listed). */
    static final int ANONYMOUS_BUDGET = 32;
    /** How many subscription updates the announcements' history keeps, for watchers that start meanwhile. */
    static final int ANNOUNCED_HISTORY = 1000;

    /**
     * One subscriber: its IRI, its topic selectors (in request order), its token's payload claim, and
     * whether it came without a token.
     */
    record Subscriber(String id, List<String> selectors, Optional<Object> payload, boolean anonymous) {
        Subscriber {
            selectors = List.copyOf(selectors);
        }
    }

    private final Broadcaster hub;
    /** Where the subscription updates go; null when {@link #events} is off. */
    private final Broadcaster announcements;
    private final boolean events;
    /** By id: sorted, so the first rows are read without sorting them all (the status feed, each second). */
    private final java.util.concurrent.ConcurrentNavigableMap<String, Subscriber> active = new java.util.concurrent.ConcurrentSkipListMap<>();
    /** The active subscriptions (one per subscriber and selector): the sum of the active subscribers' selectors. */
    private final AtomicInteger rows = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    /** Subscribers looked at by {@link #list} and {@link #first}: the status feed's work, counted for its test. */
    private final java.util.concurrent.atomic.LongAdder examined = new java.util.concurrent.atomic.LongAdder();
    /** Each announcing subscriber's newest update, stored or not yet: the next one waits for it. */
    private final Map<String, CompletionStage<Void>> announced = new ConcurrentHashMap<>();

    /**
     * @param hub the hub's broadcaster: its newest event id becomes each update's id
     * @param events whether subscription updates are published (on a broadcaster of their own, which
     *     {@link #close()} closes)
     */
    Subscriptions(Broadcaster hub, boolean events) {
        this.hub = hub;
        this.events = events;
        this.announcements = events
                ? Broadcaster.builder().history(ANNOUNCED_HISTORY, 8L << 20, java.time.Duration.ofHours(1)).build() : null;
    }

    /** The broadcaster of the subscription updates (events on), or null. */
    Broadcaster announcements() {
        return announcements;
    }

    /**
     * Delivers the subscription updates to a subscriber's stream when it watches them: it has a token
     * and one of its {@code selectors} is {@code *} or names {@link #PATH}; a private update reaches it
     * when {@code authorized} matches its topic. Call once the stream has started on the hub.
     *
     * @param connection the stream
     * @param topics the subscriber's selectors, as sent
     * @param selectors the same, compiled, in the same order
     * @param authorized its token's subscribe selectors, compiled
     * @throws IllegalStateException if the announcements are closed (the hub is closing)
     */
    void watch(dev.ssekit.SseConnection connection, List<String> topics, List<dev.ssekit.TopicSelector> selectors,
            List<dev.ssekit.TopicSelector> authorized) {
        if (!events || authorized.isEmpty()) {
            return;
        }
        List<dev.ssekit.TopicSelector> watched = new ArrayList<>();
        for (int i = 0; i < topics.size(); i++) {
            if (topics.get(i).equals("*") || topics.get(i).contains(PATH)) {
                watched.add(selectors.get(i));
            }
        }
        if (watched.isEmpty()) {
            return;
        }
        // from now on: the updates before it describe subscriptions the API lists
        announcements.subscription(connection).topics(watched).authorizedFor(authorized)
                .resumeFrom(announcements.lastEventId().orElse(Broadcaster.EARLIEST)).start();
    }

    /** Closes the announcements (their watchers' streams end). Idempotent. */
    void close() {
        if (announcements != null) {
            announcements.close();
        }
    }

    /** Whether subscription updates are published (and the subscriptions API is served). */
    boolean enabled() {
        return events;
    }

    /**
     * Takes one of {@code max} subscriber slots.
     *
     * @return the new subscriber, or empty when all slots are taken
     */
    Optional<Subscriber> reserve(int max, List<String> selectors, Optional<Object> payload) {
        return reserve(max, selectors, payload, false);
    }

    /**
     * Takes one of {@code max} subscriber slots for a subscriber with or without a token.
     *
     * @return the new subscriber, or empty when all slots are taken
     */
    Optional<Subscriber> reserve(int max, List<String> selectors, Optional<Object> payload, boolean anonymous) {
        if (connections.incrementAndGet() > max) {
            connections.decrementAndGet();
            return Optional.empty();
        }
        return Optional.of(new Subscriber("urn:uuid:" + UUID.randomUUID(), selectors, payload, anonymous));
    }

    /** The subscriber is receiving: listed, and its subscriptions announced as active. */
    void activate(Subscriber s) {
        if (active.put(s.id(), s) == null) {
            rows.addAndGet(s.selectors().size());
        }
        announce(s, true);
    }

    /** The subscriber's stream ended: its slot is free, its subscriptions announced as inactive. */
    void end(Subscriber s) {
        connections.decrementAndGet();
        if (active.remove(s.id()) != null) {
            rows.addAndGet(-s.selectors().size());
            announce(s, false);
        }
    }

    /** A reserved subscriber that never started (its client left first): only its slot is freed. */
    void release(Subscriber s) {
        connections.decrementAndGet();
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
        List<String> selectors = s.anonymous() && s.selectors().size() > ANONYMOUS_BUDGET
                ? s.selectors().subList(0, ANONYMOUS_BUDGET) : s.selectors();
        for (String selector : selectors) {
            Map<String, Object> body = json(s, selector, isActive, true);
            chain = chain.thenCompose(v -> MercureHub.publish(announcements, SseMessage.builder().data(write(body))
                    .id(hub.lastEventId().orElse(Broadcaster.EARLIEST)).build(),
                    List.of((String) body.get("id")), true).<Void>handle((id, e) -> {
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

    /** The id (and update topic) of one subscription. */
    static String id(String selector, String subscriber) {
        return PATH + "/" + encode(selector) + "/" + encode(subscriber);
    }

    /** The JSON-LD subscription object, in the reference hub's key order. */
    static Map<String, Object> json(Subscriber s, String selector, boolean isActive, boolean context) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (context) {
            m.put("@context", CONTEXT);
        }
        m.put("id", id(selector, s.id()));
        m.put("type", "Subscription");
        m.put("topic", selector);
        m.put("subscriber", s.id());
        m.put("active", isActive);
        s.payload().ifPresent(p -> m.put("payload", p));
        return m;
    }

    /**
     * The active subscriptions, ordered by subscriber then selector, for {@code GET
     * /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]}: all of them, those whose selector
     * the given {@code topic} selector matches, or that one subscriber's for that topic.
     */
    List<Map<String, Object>> list(Optional<String> topic, Optional<String> subscriber, boolean context) {
        Optional<TopicMatcher> filter = topic.map(TopicMatcher::of);
        List<Subscriber> subscribers = new ArrayList<>(subscriber.isPresent()
                ? Optional.ofNullable(active.get(subscriber.get())).stream().toList()
                : active.values());
        subscribers.sort(Comparator.comparing(Subscriber::id));
        examined.add(subscribers.size());
        List<Map<String, Object>> out = new ArrayList<>();
        for (Subscriber s : subscribers) {
            for (String selector : s.selectors()) {
                if (filter.isEmpty() || filter.get().matches(selector)) {
                    out.add(json(s, selector, true, context));
                }
            }
        }
        return out;
    }

    /**
     * The first {@code max} active subscriptions in {@link #list}'s order (without context) and the
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
            for (String selector : s.selectors()) {
                if (out.size() < max) {
                    out.add(json(s, selector, true, false));
                }
            }
        }
        return new First(out, total);
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
