package dev.ssekit;

import java.util.Objects;

/**
 * Which topics a {@link Broadcaster} subscription receives: one exact topic, every topic, or a
 * glob over {@code /}-separated segments ({@code *} matches within one segment, {@code **} matches
 * across segments: {@code orders/*} matches {@code orders/42} but not {@code orders/42/lines};
 * {@code orders/**} matches both). Immutable and thread-safe.
 *
 * <p>Exact selectors and {@link #all()} cost a publish nothing per subscriber (the broadcaster
 * looks them up by topic); globs and custom selectors are tested once per publish each, unless a
 * custom selector is {@linkplain #of(String, java.util.function.Predicate, Index, Object) filed under
 * a key} of an {@link Index}: then it is tested only for the topics that key is derived from.
 */
public final class TopicSelector {

    private static final TopicSelector ALL = new TopicSelector("**", null, null, null, null, null);

    private final String text;
    private final String exact;
    private final GlobMatcher pattern;
    private final java.util.function.Predicate<String> custom;
    private final Index index;
    private final Object key;

    private TopicSelector(String text, String exact, GlobMatcher pattern, java.util.function.Predicate<String> custom,
            Index index, Object key) {
        this.text = text;
        this.exact = exact;
        this.pattern = pattern;
        this.custom = custom;
        this.index = index;
        this.key = key;
    }

    /**
     * How a family of custom selectors is indexed, so that a publish tests only the selectors that
     * can match its topics (for example URL patterns by origin and path prefix): each selector is
     * filed under one key, and a topic names the keys whose selectors may match it. The contract:
     * whenever a selector filed under key {@code k} of this index matches a topic, {@link #keys}
     * names a key equal to {@code k} for that topic. A broadcaster tests a selector for a topic only
     * when its key is among the topic's keys; a key it never names leaves the selector unmatched.
     *
     * <p>Implementations must be thread-safe and fast, must not throw, and should be long-lived: one
     * per family of selectors (a broadcaster probes each index with live selectors once per topic
     * published). Keys need consistent {@code equals} and {@code hashCode}.
     */
    @FunctionalInterface
    public interface Index {

        /**
         * Names the keys under which a selector of this index that matches the topic is filed:
         * every such key at least once (more are harmless; none for a topic nothing of this index matches).
         *
         * @param topic a published topic
         * @param action called with each key
         */
        void keys(String topic, java.util.function.Consumer<Object> action);
    }

    /**
     * A selector with its own matching rule, for example Mercure's RFC 6570 URI templates. It is
     * checked against the topics of every published event, like a glob.
     *
     * @param name how the selector shows in {@code toString}
     * @param matcher decides whether a topic matches; must be thread-safe and fast, and not throw
     * @return the selector; equal only to itself
     */
    public static TopicSelector of(String name, java.util.function.Predicate<String> matcher) {
        return new TopicSelector(Objects.requireNonNull(name, "name"), null, null, Objects.requireNonNull(matcher, "matcher"),
                null, null);
    }

    /**
     * A selector with its own matching rule, filed under a key of an index: a broadcaster tests it
     * only for the published topics whose {@linkplain Index#keys keys} include {@code key}, so ten
     * thousand such selectors under distinct keys cost a publish a few lookups, not ten thousand
     * tests. The caller guarantees the index's contract: {@code matcher} matches no topic whose
     * keys lack {@code key} (such a topic is never delivered to it by a broadcaster, though {@link
     * #matches} still tests the rule).
     *
     * @param name how the selector shows in {@code toString}
     * @param matcher decides whether a topic matches; must be thread-safe and fast, and not throw
     * @param index the index it belongs to
     * @param key its key in that index; consistent {@code equals} and {@code hashCode}
     * @return the selector; equal only to itself
     */
    public static TopicSelector of(String name, java.util.function.Predicate<String> matcher, Index index, Object key) {
        return new TopicSelector(Objects.requireNonNull(name, "name"), null, null, Objects.requireNonNull(matcher, "matcher"),
                Objects.requireNonNull(index, "index"), Objects.requireNonNull(key, "key"));
    }

    /**
     * The index a selector made by {@link #of(String, java.util.function.Predicate, Index, Object)} is
     * filed in.
     *
     * @return the index, or empty for any other selector
     */
    public java.util.Optional<Index> index() {
        return java.util.Optional.ofNullable(index);
    }

    /**
     * The key a selector made by {@link #of(String, java.util.function.Predicate, Index, Object)} is
     * filed under.
     *
     * @return the key, or empty for any other selector
     */
    public java.util.Optional<Object> indexKey() {
        return java.util.Optional.ofNullable(key);
    }

    /**
     * Exactly one topic.
     *
     * @param topic the topic; not empty
     * @return the selector
     * @throws IllegalArgumentException if {@code topic} is empty
     */
    public static TopicSelector exact(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        return new TopicSelector(topic, topic, null, null, null, null);
    }

    /**
     * Every topic.
     *
     * @return the selector
     */
    public static TopicSelector all() {
        return ALL;
    }

    /**
     * A glob: {@code *} is any run of characters other than {@code /}, {@code **} any run at
     * all; everything else matches itself. A glob without wildcards is {@link #exact}. Matching
     * never backtracks: it takes time proportional to the topic's length times the glob's, so
     * globs and topics chosen by clients cannot stall a publisher.
     *
     * @param glob the pattern; not empty
     * @return the selector
     * @throws IllegalArgumentException if {@code glob} is empty
     */
    public static TopicSelector glob(String glob) {
        Objects.requireNonNull(glob, "glob");
        if (glob.isEmpty()) {
            throw new IllegalArgumentException("glob must not be empty");
        }
        if (glob.indexOf('*') < 0) {
            return exact(glob);
        }
        if (glob.equals("**")) {
            return ALL;
        }
        return new TopicSelector(glob, null, new GlobMatcher(glob), null, null, null);
    }

    /**
     * Whether this selector matches one topic.
     *
     * @param topic the topic
     * @return {@code true} if it matches
     */
    public boolean matches(String topic) {
        if (exact != null) {
            return exact.equals(topic);
        }
        if (custom != null) {
            return custom.test(topic);
        }
        return pattern == null || pattern.matches(topic);
    }

    /**
     * The topic of an exact selector.
     *
     * @return the topic, or empty for a pattern
     */
    public java.util.Optional<String> exactTopic() {
        return java.util.Optional.ofNullable(exact);
    }

    @Override
    public boolean equals(Object o) {
        if (custom != null || o instanceof TopicSelector t && t.custom != null) {
            return this == o;
        }
        return o instanceof TopicSelector t && text.equals(t.text) && (exact == null) == (t.exact == null);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
