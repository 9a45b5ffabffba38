package dev.ssekit.hub;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Mercure 0.x subscriptions in compatibility mode 8 only, as the reference hub keeps them
 * (MERCURE-1.0.md §3): a {@code topic=} subscription keeps its v8 id {@code
 * /.well-known/mercure/subscriptions/{topic}/{subscriber}} (each variable percent-encoded once) and
 * a {@code topic} member instead of {@code match_type} and {@code match}; the subscriptions API adds
 * the v8 paths {@code /subscriptions/{topic}} and {@code /subscriptions/{topic}/{subscriber}}.
 * Documents are otherwise 1.0's (JSON, {@code "type":"subscription"}, the {@code mercure} event
 * type, the cursor in the {@code Link} header). Dropping 0.x deletes this class. Stateless.
 */
final class LegacySubscriptions {

    private LegacySubscriptions() {
    }

    /**
     * A 0.x {@code topic=} subscription.
     *
     * @param topic the topic selector, as sent
     * @param payload the token's payload for it (a 0.x token's global {@code mercure.payload})
     */
    record Topic(String topic, Optional<Object> payload) implements Subscriptions.Subscription {

        @Override
        public String value() {
            return topic;
        }

        @Override
        public String path() {
            return Subscriptions.encode(topic);
        }

        @Override
        public void describe(Map<String, Object> document) {
            document.put("topic", topic);
        }
    }

    /** The v8 id of a topic selector's subscription. */
    static String id(String topic, String subscriber) {
        return Subscriptions.id(new Topic(topic, Optional.empty()), subscriber);
    }

    /**
     * The target of a v8 API path: {@code /{topic}} (one segment) or {@code /{topic}/{subscriber}}
     * (two, the first not a match type).
     *
     * @param segments the decoded segments after {@code /subscriptions}, one or two
     */
    static Subscriptions.Target target(List<String> segments) {
        return new Subscriptions.Target(Optional.of(Subscriptions.encode(segments.getFirst())),
                segments.size() > 1 ? Optional.of(segments.get(1)) : Optional.empty());
    }
}
