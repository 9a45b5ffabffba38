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
 * TopicSelector#all()} in a set of their own, selectors filed under a key of a {@link
 * TopicSelector.Index} by that key (a publish probes each such index with each of its topics and
 * tests only the selectors under the keys it names), every other selector (globs, unindexed custom
 * ones) tested per event, each distinct selector once per event. Subscribers are added and removed
 * from any thread; {@link #forEachMatch} runs on the group's thread.
 *
 * <p>Membership is atomic with respect to add and remove: a topic's (or key's) set is created, joined, left
 * and unmapped inside the map's own per-key atomic step ({@link ConcurrentHashMap#compute}), so a
 * subscriber never joins a set that a concurrent remove is unmapping. {@link #isEmpty} reads an
 * exact count, raised before a subscriber enters the sets and lowered after it left them (a
 * {@link ConcurrentHashMap}'s own emptiness is only an estimate while others add and remove); so is
 * each index's count of filed selectors, which decides whether a publish probes it.
 */
final class SubscriberIndex {

    /** Where a keyed selector is filed: its index and its key in it. */
    private record Slot(TopicSelector.Index index, Object key) {
    }

    private final Map<String, Set<Subscriber>> byTopic = new ConcurrentHashMap<>();
    /** Subscribers by the keys their keyed selectors are filed under. */
    private final Map<Slot, Set<Subscriber>> byKey = new ConcurrentHashMap<>();
    /**
     * The indexes of the keyed selectors filed now, each with how many: raised before a selector joins
     * {@link #byKey}, lowered after it left, so a publish probes every index a returned add filed in.
     */
    private final Map<TopicSelector.Index, Integer> indexes = new ConcurrentHashMap<>();
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
            } else if (sel.index().isPresent()) {
                TopicSelector.Index index = sel.index().get();
                indexes.merge(index, 1, Integer::sum); // first: from here on publishes probe the index
                byKey.compute(new Slot(index, sel.indexKey().orElseThrow()), (k, set) -> {
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
        if (!s.selectors().contains(TopicSelector.all())) { // else add filed it in everything only
            for (TopicSelector sel : s.selectors()) {
                sel.exactTopic().ifPresent(t -> byTopic.computeIfPresent(t, (k, set) -> {
                    set.remove(s);
                    return set.isEmpty() ? null : set;
                }));
                if (sel.index().isPresent()) {
                    TopicSelector.Index index = sel.index().get();
                    byKey.computeIfPresent(new Slot(index, sel.indexKey().orElseThrow()), (k, set) -> {
                        set.remove(s);
                        return set.isEmpty() ? null : set;
                    });
                    indexes.computeIfPresent(index, (k, n) -> n == 1 ? null : n - 1); // after it left
                }
            }
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
     * two topics (or filed under two keys a topic names) may be called twice; {@link Subscriber#offer}
     * keeps the first.
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
        if (!indexes.isEmpty()) {
            // only the keyed selectors under the keys the topics name: the rest cannot match (the index's contract)
            Consumer<Subscriber> test = s -> {
                if (s.accepts(event, verdicts)) {
                    action.accept(s);
                }
            };
            for (TopicSelector.Index index : indexes.keySet()) {
                for (String t : event.topics()) {
                    index.keys(t, key -> {
                        Set<Subscriber> filed = byKey.get(new Slot(index, key));
                        if (filed != null) {
                            filed.forEach(test);
                        }
                    });
                }
            }
        }
        for (Subscriber s : patterned) {
            if (s.accepts(event, verdicts)) {
                action.accept(s);
            }
        }
    }
}
