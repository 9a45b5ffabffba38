package dev.ssekit.hub;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ssekit.TopicSelector;
import java.util.Collection;
import java.util.List;

/**
 * Topic selectors as the hub meets them in subscriptions, tokens' claims and the subscriptions
 * API: each text is compiled once and kept in a bounded cache (like Mercure's selector store), so
 * ten thousand subscribers to one template share one compiled matcher. {@code *} becomes {@link
 * TopicSelector#all()} and a selector that is not a URI template becomes {@link
 * TopicSelector#exact}: both go through the broadcaster's index and cost a publish nothing per
 * subscriber. Only templates are matched, in time linear in the topic (see {@link TopicMatcher}), and
 * only those whose literal prefix the topic has ({@link TopicPrefixes#TEMPLATES}).
 * Selectors and topics are limited to {@link #MAX_LENGTH} characters. Thread-safe.
 */
final class TopicSelectorStore {

    /** The longest topic or selector the hub takes, in characters. */
    static final int MAX_LENGTH = 2048;

    private record Compiled(TopicMatcher matcher, TopicSelector selector) {
    }

    private final Cache<String, Compiled> cache;

    /**
     * @param capacity how many compiled selectors to keep (the least used go first)
     * @throws IllegalArgumentException if capacity is below 1
     */
    TopicSelectorStore(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.cache = Caffeine.newBuilder().maximumSize(capacity).build();
    }

    /**
     * The broadcaster selector for a Mercure topic selector.
     *
     * @throws IllegalArgumentException if it is empty, longer than {@link #MAX_LENGTH}, or a
     *     template of more than {@link TopicMatcher#MAX_EXPRESSIONS} expressions
     */
    TopicSelector selector(String text) {
        return compiled(text).selector;
    }

    /** The selectors for several texts, in order; see {@link #selector}. */
    List<TopicSelector> selectors(Collection<String> texts) {
        return texts.stream().map(this::selector).toList();
    }

    /**
     * The selectors of a token's claim: those of the texts that are usable, skipping (so matching
     * nothing) empty ones, ones over the length limit and templates of too many expressions.
     */
    List<TopicSelector> usable(Collection<String> texts) {
        List<TopicSelector> out = new java.util.ArrayList<>(texts.size());
        for (String t : texts) {
            if (!t.isEmpty() && t.length() <= MAX_LENGTH) {
                try {
                    out.add(selector(t));
                } catch (IllegalArgumentException tooComplex) {
                    // matches nothing
                }
            }
        }
        return out;
    }

    /**
     * Whether any of the selectors matches the topic. A selector or topic over the length limit,
     * or a template of more than {@link TopicMatcher#MAX_EXPRESSIONS} expressions, matches nothing.
     */
    boolean anyMatches(Collection<String> selectors, String topic) {
        if (topic.length() > MAX_LENGTH) {
            return false;
        }
        for (String s : selectors) {
            if (s.isEmpty() || s.length() > MAX_LENGTH) {
                continue;
            }
            try {
                if (compiled(s).matcher.matches(topic)) {
                    return true;
                }
            } catch (IllegalArgumentException tooComplex) {
                // a template of too many expressions matches nothing
            }
        }
        return false;
    }

    /**
     * Whether the selector for this text is ready without compiling it (it is in the cache). Cheap:
     * what a caller on an event loop asks before {@link #selector}.
     */
    boolean cached(String text) {
        return cache.getIfPresent(text) != null;
    }

    /** How many compiled selectors are cached now (for tests and metrics). */
    long size() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    private Compiled compiled(String text) {
        check(text);
        return cache.get(text, TopicSelectorStore::compile);
    }

    /**
     * Refuses an empty topic or selector, or one over the limit.
     *
     * @throws IllegalArgumentException naming the limit
     */
    static void check(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("a topic must not be empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("a topic or topic selector must be at most " + MAX_LENGTH + " characters, got "
                    + text.length());
        }
    }

    private static Compiled compile(String text) {
        TopicMatcher m = TopicMatcher.of(text);
        // a template matches only topics with its literal prefix: filed under it, tested only for topics that have it
        TopicSelector s = text.equals("*") ? TopicSelector.all()
                : m.isTemplate() ? TopicSelector.of(text, m::matches, TopicPrefixes.TEMPLATES, TopicPrefixes.cut(m.prefix()))
                : TopicSelector.exact(text);
        return new Compiled(m, s);
    }
}
