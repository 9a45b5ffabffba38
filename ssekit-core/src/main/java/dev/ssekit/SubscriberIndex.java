package dev.ssekit;

import dev.ssekit.spi.StoredEvent;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The subscribers of one {@link DeliveryGroup}, indexed for matching: exact topics by hash, {@link
 * TopicSelector#all()} in a set of their own, every other selector (globs, templates) tested per
 * event, each distinct selector once per event. Subscribers are added and removed from any thread;
 * {@link #forEachMatch} runs on the group's thread.
 */
final class SubscriberIndex {

    private final Map<String, Set<Subscriber>> byTopic = new ConcurrentHashMap<>();
    private final Set<Subscriber> patterned = ConcurrentHashMap.newKeySet();
    /** Subscribers with {@link TopicSelector#all()}: every event is theirs, no selector to test. */
    private final Set<Subscriber> everything = ConcurrentHashMap.newKeySet();

    void add(Subscriber s) {
        if (s.selectors().contains(TopicSelector.all())) {
            everything.add(s);
            return;
        }
        for (TopicSelector sel : s.selectors()) {
            if (sel.exactTopic().isPresent()) {
                byTopic.computeIfAbsent(sel.exactTopic().get(), k -> ConcurrentHashMap.newKeySet()).add(s);
            } else {
                patterned.add(s);
            }
        }
    }

    void remove(Subscriber s) {
        patterned.remove(s);
        everything.remove(s);
        for (TopicSelector sel : s.selectors()) {
            sel.exactTopic().ifPresent(t -> byTopic.computeIfPresent(t, (k, set) -> {
                set.remove(s);
                return set.isEmpty() ? null : set;
            }));
        }
    }

    boolean isEmpty() {
        return everything.isEmpty() && patterned.isEmpty() && byTopic.isEmpty();
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
