package dev.ssekit.mercure;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One entry of a token's {@code authorization_details} (RFC 9396) of type {@value #TYPE}
 * (draft-dunglas-mercure-08 L690-722, L830-870): the actions it allows on the topics its matchers
 * match, and an optional {@code payload} object that the hub attaches to the subscriptions it
 * authorizes. Immutable, thread-safe.
 *
 * @param actions what the token may do; not empty
 * @param topics the matchers the actions apply to; not empty
 * @param payload the {@code payload} object; empty for none. Its values must be what a JSON
 *     serializer understands: strings, numbers, booleans, null, lists and maps of these
 */
public record Grant(Set<Action> actions, List<TopicMatcher> topics, Optional<Map<String, Object>> payload) {

    /** The {@code type} of Mercure's authorization details, compared byte for byte by hubs. */
    public static final String TYPE = "https://mercure.rocks/authorization-detail";

    /** An action a grant allows. */
    public enum Action {
        /** Publishing updates whose every topic is matched. */
        PUBLISH("publish"),
        /** Receiving private updates of which one topic is matched (and using the subscriptions API). */
        SUBSCRIBE("subscribe");

        private final String wireName;

        Action(String wireName) {
            this.wireName = wireName;
        }

        /**
         * The name in the token's {@code actions} array.
         *
         * @return {@code publish} or {@code subscribe}
         */
        public String wireName() {
            return wireName;
        }
    }

    /**
     * Validates and copies.
     *
     * @throws NullPointerException if an argument, or an element, is null
     * @throws IllegalArgumentException if {@code actions} or {@code topics} is empty
     */
    public Grant {
        Objects.requireNonNull(actions, "actions");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(payload, "payload");
        if (actions.isEmpty()) {
            throw new IllegalArgumentException("actions must not be empty");
        }
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("topics must not be empty");
        }
        actions = Collections.unmodifiableSet(EnumSet.copyOf(actions));
        topics = List.copyOf(topics);
        payload = payload.map(p -> Collections.unmodifiableMap(new LinkedHashMap<>(p)));
    }

    /**
     * A grant to publish on the topics {@code topics} match.
     *
     * @param topics at least one matcher
     * @return the grant, without payload
     * @throws IllegalArgumentException if {@code topics} is empty
     */
    public static Grant publish(TopicMatcher... topics) {
        return new Grant(EnumSet.of(Action.PUBLISH), Arrays.asList(topics), Optional.empty());
    }

    /**
     * A grant to receive private updates on the topics {@code topics} match.
     *
     * @param topics at least one matcher
     * @return the grant, without payload
     * @throws IllegalArgumentException if {@code topics} is empty
     */
    public static Grant subscribe(TopicMatcher... topics) {
        return new Grant(EnumSet.of(Action.SUBSCRIBE), Arrays.asList(topics), Optional.empty());
    }

    /**
     * This grant with a {@code payload}.
     *
     * @param payload the object; see the record's {@code payload}
     * @return a new grant
     * @throws NullPointerException if {@code payload} is null
     */
    public Grant withPayload(Map<String, ?> payload) {
        return new Grant(actions, topics, Optional.of(new LinkedHashMap<String, Object>(Objects.requireNonNull(payload, "payload"))));
    }

    /** The entry as the token carries it: {@code {"type", "actions", "topics": [{"match", "match_type"}], "payload"?}}. */
    Map<String, Object> toClaim() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("type", TYPE);
        entry.put("actions", actions.stream().map(Action::wireName).toList());
        entry.put("topics", topics.stream().map(t -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("match", t.match());
            m.put("match_type", t.type().wireName());
            return m;
        }).toList());
        payload.ifPresent(p -> entry.put("payload", p));
        return entry;
    }
}
