package dev.ssekit.hub;

import dev.ssekit.TopicSelector;
import java.util.List;
import java.util.Optional;

/**
 * Mercure 0.x grants, in compatibility mode only: the {@code mercure} claim's {@code publish} and
 * {@code subscribe} topic selectors (exact strings, {@code *}, RFC 6570 URI templates) and its
 * global {@code payload}, used when a token has no {@code authorization_details} (as the reference
 * hub's compatibility mode 8). Dropping 0.x deletes this class. Immutable, thread-safe.
 */
record LegacyGrants(Claims claims, TopicSelectorStore selectors) implements Grants {

    @Override
    public boolean mayPublish(String topic) {
        return selectors.anyMatches(claims.publish(), topic);
    }

    @Override
    public boolean maySubscribe(String topic) {
        return selectors.anyMatches(claims.subscribe(), topic);
    }

    @Override
    public List<TopicSelector> subscribeSelectors() {
        return selectors.usable(claims.subscribe());
    }

    @Override
    public Optional<Object> payloadFor(String matcherValue) {
        return claims.payload();
    }

    @Override
    public Optional<Long> expiresAt() {
        return claims.expiresAt();
    }
}
