package dev.ssekit;

import java.util.Objects;

/**
 * Which topics a {@link Broadcaster} subscription receives: one exact topic, every topic, or a
 * glob over {@code /}-separated segments ({@code *} matches within one segment, {@code **} matches
 * across segments: {@code orders/*} matches {@code orders/42} but not {@code orders/42/lines};
 * {@code orders/**} matches both). Immutable and thread-safe.
 */
public final class TopicSelector {

    private static final TopicSelector ALL = new TopicSelector("**", null, null, null);

    private final String text;
    private final String exact;
    private final GlobMatcher pattern;
    private final java.util.function.Predicate<String> custom;

    private TopicSelector(String text, String exact, GlobMatcher pattern, java.util.function.Predicate<String> custom) {
        this.text = text;
        this.exact = exact;
        this.pattern = pattern;
        this.custom = custom;
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
        return new TopicSelector(Objects.requireNonNull(name, "name"), null, null, Objects.requireNonNull(matcher, "matcher"));
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
        return new TopicSelector(topic, topic, null, null);
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
        return new TopicSelector(glob, null, new GlobMatcher(glob), null);
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
