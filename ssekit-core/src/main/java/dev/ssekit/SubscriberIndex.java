package dev.ssekit;

import dev.ssekit.spi.StoredEvent;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The subscribers of one {@link DeliveryGroup}, indexed for matching: exact topics by hash, {@link
 * TopicSelector#all()} in a set of their own, every other selector (globs, templates) tested per
 * event, each distinct selector once per event. Subscribers are added and removed from any thread;
 * {@link #forEachMatch} runs on the group's thread.
 *
 * <p>Membership is atomic with respect to add and remove: a topic's set is created, joined, left
 * and unmapped inside the map's own per-key atomic step ({@link ConcurrentHashMap#compute}), so a
 * subscriber never joins a set that a concurrent remove is unmapping. {@link #isEmpty} reads an
 * exact count, raised before a subscriber enters the sets and lowered after it left them (a
 * {@link ConcurrentHashMap}'s own emptiness is only an estimate while others add and remove).
 */
final class SubscriberIndex {

    private final Map<String, Set<Subscriber>> byTopic = new ConcurrentHashMap<>();
    private final Set<Subscriber> patterned = ConcurrentHashMap.newKeySet();
    /** Subscribers with {@link TopicSelector#all()}: every event is theirs, no selector to test. */
    private final Set<Subscriber> everything = ConcurrentHashMap.newKeySet();
    /** Subscribers added and not yet removed: raised before they enter the sets, lowered after they left. */
    private final AtomicInteger members = new AtomicInteger();

    /** Adds a subscriber (once; a subscriber is added at most once and removed at most once). */
    void add(Subscriber s) {
        members.incrementAndGet(); // first: from here on the group is not empty for a publisher
        if (s.selectors().contains(TopicSelector.all())) {
            everything.add(s);
            return;
        }
        for (TopicSelector sel : s.selectors()) {
            if (sel.exactTopic().isPresent()) {
                // joined inside the key's atomic step: a remove cannot unmap the set in between
                byTopic.compute(sel.exactTopic().get(), (k, set) -> {
                    Set<Subscriber> joined = set != null ? set : ConcurrentHashMap.newKeySet();
                    joined.add(s);
                    return joined;
                });
            } else {
                patterned.add(s);
            }
        }
    }

    /** Removes a subscriber added before. */
    void remove(Subscriber s) {
        patterned.remove(s);
        everything.remove(s);
        for (TopicSelector sel : s.selectors()) {
            sel.exactTopic().ifPresent(t -> byTopic.computeIfPresent(t, (k, set) -> {
                set.remove(s);
                return set.isEmpty() ? null : set;
            }));
        }
        members.decrementAndGet(); // last: it has left every set
    }

    /**
     * Whether no subscriber is added: exact for every add and remove that returned before this
     * call (a publisher may skip the group only then).
     */
    boolean isEmpty() {
        return members.get() == 0;
    }

    /**
     * Calls {@code action} for each subscriber that receives the event: a topic matches one of its
     * selectors and, for a restricted event, one of its authorizations. A subscriber matching by
     * two topics may be called twice; {@link Subscriber#offer} keeps the first.
     */
    void forEachMatch(StoredEvent event, Consumer<Subscriber> action) {
        // each selector's verdict on this event, once: subscribers share compiled selectors
        Map<TopicSelector, Boolean> verdicts = new HashMap<>();
        for (String t : event.topics()) {
            Set<Subscriber> exact = byTopic.get(t);
            if (exact != null) {
                for (Subscriber s : exact) {
                    if (s.authorizedFor(event, verdicts)) {
                        action.accept(s);
                    }
                }
            }
        }
        for (Subscriber s : everything) {
            if (s.authorizedFor(event, verdicts)) {
                action.accept(s);
            }
        }
        for (Subscriber s : patterned) {
            if (s.accepts(event, verdicts)) {
                action.accept(s);
            }
        }
    }
}
