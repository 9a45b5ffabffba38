package dev.ssekit.hub;

import java.util.Objects;

/**
 * One Mercure 1.0 topic matcher: a subscription's {@code match=} / {@code match_urlpattern=}
 * value, or one of an {@code authorization_details} entry's {@code topics}. Its type is one of
 * {@link #EXACT} and {@link #URLPATTERN} (the types every 1.0 hub supports, draft-dunglas-mercure-08
 * L259-297); the value {@code *} matches every topic whatever the type.
 *
 * @param type {@link #EXACT} or {@link #URLPATTERN}
 * @param value the string to compare, or the URL pattern
 */
record Matcher(String type, String value) {

    /** Case-sensitive, byte-for-byte equality; no relative resolution, no normalisation. */
    static final String EXACT = "exact";
    /** A WHATWG URL Pattern, resolved (with the topics) against the hub URL. */
    static final String URLPATTERN = "urlpattern";

    Matcher {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if (!type.equals(EXACT) && !type.equals(URLPATTERN)) {
            throw new IllegalArgumentException("unknown match_type: " + type);
        }
    }

    /** An exact matcher. */
    static Matcher exact(String value) {
        return new Matcher(EXACT, value);
    }

    /** A URL Pattern matcher. */
    static Matcher urlPattern(String value) {
        return new Matcher(URLPATTERN, value);
    }

    /** Whether this is the wildcard {@code *}, which matches every topic under any type (L274-280). */
    boolean all() {
        return value.equals("*");
    }
}
