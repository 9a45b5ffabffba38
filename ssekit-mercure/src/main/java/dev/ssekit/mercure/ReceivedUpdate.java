package dev.ssekit.mercure;

import java.util.Objects;

/**
 * An update a subscription received. Immutable, thread-safe.
 *
 * @param id the update's id: what the subscription resumes from ({@link
 *     Subscription.Builder#lastEventId})
 * @param type the SSE event type: {@code message} unless the publisher gave one; {@code mercure}
 *     for the hub's own subscription events
 * @param data the data, its lines joined with {@code \n}
 */
public record ReceivedUpdate(String id, String type, String data) {

    /**
     * Validates.
     *
     * @throws NullPointerException if an argument is null
     */
    public ReceivedUpdate {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
    }

    /**
     * Whether this is one of the hub's subscription events ({@code event: mercure}, L1063-1072)
     * rather than a published update.
     *
     * @return {@code true} for a subscription event
     */
    public boolean isSubscriptionEvent() {
        return type.equals("mercure");
    }
}
