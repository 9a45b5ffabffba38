package dev.ssekit.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The grants of a Mercure 1.0 access token: its RFC 9396 {@code authorization_details}
 * (draft-dunglas-mercure-08 L690-733, L830-870). Knows no JOSE: it reads the parsed JSON claim.
 *
 * <p>Only entries whose {@code type} is exactly {@link #TYPE} are Mercure's; entries of other types
 * are skipped (they are another resource's). A Mercure entry has {@code actions}, a non-empty array
 * of strings ({@code publish}, {@code subscribe}; other strings are ignored, a non-string is
 * invalid), {@code topics}, a non-empty array of objects {@code {"match": s, "match_type"?: t}}
 * ({@code match_type} defaults to {@code exact}; a type the hub does not support, a bare string, an
 * empty or invalid match are invalid), and an optional {@code payload} object. One invalid entry,
 * or more than {@link #MAX_DETAILS} entries or {@link #MAX_TOPICS} topics in total, or URL patterns of more
 * than {@link SubscribeMatchers#MAX_PATTERN_BYTES} bytes in total, makes the whole
 * token invalid: there is no partial acceptance (L724-733). Immutable, thread-safe.
 *
 * @param details the Mercure entries, in the token's order
 */
record AuthorizationDetails(List<Detail> details) {

    /** The {@code type} of Mercure's entries, compared byte for byte. */
    static final String TYPE = "https://mercure.rocks/authorization-detail";
    /** The most entries (of any type) one token may hold. */
    static final int MAX_DETAILS = 100;
    /** The most {@code topics} entries, over all Mercure entries, one token may hold. */
    static final int MAX_TOPICS = 100;

    /** No grants: the token may neither publish nor subscribe to anything private. */
    static final AuthorizationDetails NONE = new AuthorizationDetails(List.of());

    AuthorizationDetails {
        details = List.copyOf(details);
    }

    /**
     * One Mercure entry.
     *
     * @param publish whether its actions include {@code publish}
     * @param subscribe whether its actions include {@code subscribe}
     * @param topics what it applies to (never empty)
     * @param payload its {@code payload} object, if any
     */
    record Detail(boolean publish, boolean subscribe, List<Matcher> topics, Optional<Map<String, Object>> payload) {
        Detail {
            topics = List.copyOf(topics);
        }
    }

    /**
     * Reads the claim.
     *
     * @param claim the parsed {@code authorization_details} claim (a List of Maps), or null when the
     *     token has none (then it grants nothing)
     * @param matchers checks that each topic's match is valid for its type (and caches it compiled)
     * @return the grants
     * @throws IllegalArgumentException naming the first reason the claim is invalid
     */
    static AuthorizationDetails parse(Object claim, MatcherStore matchers) {
        if (claim == null) {
            return NONE;
        }
        if (!(claim instanceof List<?> entries)) {
            throw new IllegalArgumentException("authorization_details must be an array");
        }
        if (entries.size() > MAX_DETAILS) {
            throw new IllegalArgumentException("authorization_details holds more than " + MAX_DETAILS + " entries");
        }
        List<Detail> out = new ArrayList<>();
        int topicCount = 0;
        long patternBytes = 0;
        for (int i = 0; i < entries.size(); i++) {
            if (!(entries.get(i) instanceof Map<?, ?> entry)) {
                throw new IllegalArgumentException("authorization_details[" + i + "] is not an object");
            }
            if (!(entry.get("type") instanceof String type)) {
                throw new IllegalArgumentException("authorization_details[" + i + "] has no string type");
            }
            if (!type.equals(TYPE)) {
                continue; // another resource's entry
            }
            if (!(entry.get("actions") instanceof List<?> actions) || actions.isEmpty()) {
                throw new IllegalArgumentException("authorization_details[" + i + "].actions must be a non-empty array");
            }
            boolean publish = false;
            boolean subscribe = false;
            for (Object a : actions) {
                if (!(a instanceof String action)) {
                    throw new IllegalArgumentException("authorization_details[" + i + "].actions holds a non-string");
                }
                publish |= action.equals("publish");
                subscribe |= action.equals("subscribe");
            }
            if (!(entry.get("topics") instanceof List<?> topics) || topics.isEmpty()) {
                throw new IllegalArgumentException("authorization_details[" + i + "].topics must be a non-empty array");
            }
            topicCount += topics.size();
            if (topicCount > MAX_TOPICS) {
                throw new IllegalArgumentException("authorization_details holds more than " + MAX_TOPICS + " topics");
            }
            List<Matcher> matchers2 = new ArrayList<>(topics.size());
            for (int j = 0; j < topics.size(); j++) {
                String where = "authorization_details[" + i + "].topics[" + j + "]";
                patternBytes += patternBytes(topics.get(j));
                if (patternBytes > SubscribeMatchers.MAX_PATTERN_BYTES) { // before compiling it (issue #24)
                    throw new IllegalArgumentException(where + ": the URL patterns of authorization_details total more than "
                            + SubscribeMatchers.MAX_PATTERN_BYTES + " bytes");
                }
                matchers2.add(topic(topics.get(j), where, matchers));
            }
            Optional<Map<String, Object>> payload = Optional.empty();
            if (entry.containsKey("payload")) {
                if (!(entry.get("payload") instanceof Map<?, ?> p)) {
                    throw new IllegalArgumentException("authorization_details[" + i + "].payload must be an object");
                }
                @SuppressWarnings("unchecked") // parsed JSON objects have String keys
                Map<String, Object> typed = (Map<String, Object>) p;
                payload = Optional.of(typed);
            }
            out.add(new Detail(publish, subscribe, matchers2, payload));
        }
        return new AuthorizationDetails(out);
    }

    /** The UTF-8 bytes of a topics entry's match when it is a URL pattern (what compiling costs), else 0. */
    private static long patternBytes(Object o) {
        return o instanceof Map<?, ?> t && Matcher.URLPATTERN.equals(t.get("match_type")) && t.get("match") instanceof String match
                ? MercureProtocol.utf8Length(match) : 0;
    }

    private static Matcher topic(Object o, String where, MatcherStore matchers) {
        if (!(o instanceof Map<?, ?> t)) {
            throw new IllegalArgumentException(where + " must be an object {\"match\": ...}");
        }
        if (!(t.get("match") instanceof String match) || match.isEmpty()) {
            throw new IllegalArgumentException(where + ".match must be a non-empty string");
        }
        Object type = t.containsKey("match_type") ? t.get("match_type") : Matcher.EXACT;
        if (!(type instanceof String matchType) || !(matchType.equals(Matcher.EXACT) || matchType.equals(Matcher.URLPATTERN))) {
            throw new IllegalArgumentException(where + ".match_type is not supported by this hub");
        }
        Matcher m = new Matcher(matchType, match);
        try {
            matchers.check(m);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        return m;
    }

    /** What {@code publish} entries grant, over all of them. */
    List<Matcher> publish() {
        return details.stream().filter(Detail::publish).flatMap(d -> d.topics().stream()).toList();
    }

    /** What {@code subscribe} entries grant, over all of them. */
    List<Matcher> subscribe() {
        return details.stream().filter(Detail::subscribe).flatMap(d -> d.topics().stream()).toList();
    }

    /**
     * A subscription's payload (L848-870): that of the first {@code subscribe} entry one of whose
     * topics matches the subscription's own matcher string, treated as a topic.
     */
    Optional<Map<String, Object>> payloadFor(String matcherValue, MatcherStore matchers) {
        if (details.stream().allMatch(d -> d.payload().isEmpty())) {
            return Optional.empty(); // no payload to find: no matching at all (up to 100 x 100 patterns otherwise)
        }
        for (Detail d : details) {
            if (d.subscribe() && matchers.anyMatches(d.topics(), matcherValue)) {
                return d.payload();
            }
        }
        return Optional.empty();
    }
}
