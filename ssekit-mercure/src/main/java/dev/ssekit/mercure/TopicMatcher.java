package dev.ssekit.mercure;

import java.util.Objects;

/**
 * What a subscription, or a grant of a token, applies to: a {@code match} value and its {@code
 * match_type} (Mercure 1.0, draft-dunglas-mercure-08 L259-330). {@code *} matches every topic under
 * any type. Immutable, thread-safe.
 *
 * @param match the value: a topic for {@link Type#EXACT}, a WHATWG URL pattern for {@link
 *     Type#URLPATTERN} (relative ones are resolved against the hub URL by the hub), or {@code *}
 * @param type how {@code match} is compared with topics
 */
public record TopicMatcher(String match, Type type) {

    /** The matcher types every Mercure 1.0 hub supports. */
    public enum Type {
        /** Byte-for-byte equality (the default {@code match_type}). */
        EXACT("exact"),
        /** A WHATWG URL pattern such as {@code https://example.com/books/:id}. */
        URLPATTERN("urlpattern");

        private final String wireName;

        Type(String wireName) {
            this.wireName = wireName;
        }

        /**
         * The name on the wire: the {@code match_type} value, and the suffix of the subscribe
         * parameter ({@code match_exact}, {@code match_urlpattern}).
         *
         * @return {@code exact} or {@code urlpattern}
         */
        public String wireName() {
            return wireName;
        }
    }

    /**
     * Validates the matcher.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code match} is empty or holds a control or format
     *     character (the hub would refuse it: L172-176)
     */
    public TopicMatcher {
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(type, "type");
        if (match.isEmpty()) {
            throw new IllegalArgumentException("match must not be empty");
        }
        Text.requirePrintable("match", match);
    }

    /**
     * An exact matcher: the topic must equal {@code topic}.
     *
     * @param topic the topic
     * @return the matcher
     * @throws IllegalArgumentException as {@link #TopicMatcher the constructor}
     */
    public static TopicMatcher exact(String topic) {
        return new TopicMatcher(topic, Type.EXACT);
    }

    /**
     * A URL pattern matcher, e.g. {@code https://example.com/books/:id}.
     *
     * @param pattern the pattern
     * @return the matcher
     * @throws IllegalArgumentException as {@link #TopicMatcher the constructor}
     */
    public static TopicMatcher urlPattern(String pattern) {
        return new TopicMatcher(pattern, Type.URLPATTERN);
    }

    /**
     * The wildcard {@code *}: every topic.
     *
     * @return the matcher
     */
    public static TopicMatcher any() {
        return new TopicMatcher("*", Type.EXACT);
    }
}
