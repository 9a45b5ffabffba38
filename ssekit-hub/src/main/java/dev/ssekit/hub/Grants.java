package dev.ssekit.hub;

import dev.ssekit.TopicSelector;
import java.util.List;
import java.util.Optional;

/**
 * What a verified token allows, whatever protocol version granted it: the Mercure 1.0 {@code
 * authorization_details} ({@link #of(AuthorizationDetails, MatcherStore, long)}) or, in
 * compatibility mode, the 0.x {@code mercure} claim ({@link LegacyGrants}). Immutable, thread-safe.
 */
interface Grants {

    /** Whether the token may publish to this topic. */
    boolean mayPublish(String topic);

    /** Whether the token may receive private updates on, or read the subscriptions API at, this topic. */
    boolean maySubscribe(String topic);

    /** The selectors a subscriber's private updates must match (one of them, on one of the update's topics). */
    List<TopicSelector> subscribeSelectors();

    /** The payload shown in the events of a subscription with this matcher value, if the token gives one. */
    Optional<Object> payloadFor(String matcherValue);

    /** The token's {@code exp} in epoch seconds, if it has one (a 1.0 token always has). */
    Optional<Long> expiresAt();

    /** The 1.0 grants of a valid access token. */
    static Grants of(AuthorizationDetails details, MatcherStore matchers, long exp) {
        List<TopicSelector> selectors = matchers.selectors(details.subscribe());
        return new Grants() {
            @Override
            public boolean mayPublish(String topic) {
                return matchers.anyMatches(details.publish(), topic);
            }

            @Override
            public boolean maySubscribe(String topic) {
                return matchers.anyMatches(details.subscribe(), topic);
            }

            @Override
            public List<TopicSelector> subscribeSelectors() {
                return selectors;
            }

            @Override
            public Optional<Object> payloadFor(String matcherValue) {
                return details.payloadFor(matcherValue, matchers).map(Object.class::cast);
            }

            @Override
            public Optional<Long> expiresAt() {
                return Optional.of(exp);
            }
        };
    }
}
