package dev.ssekit.hub;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Mercure claims of a verified token: {@code mercure.publish} and {@code mercure.subscribe}
 * (topic selectors; absent or empty means nothing is allowed), {@code mercure.payload} (any JSON,
 * exposed in subscription events), and {@code exp} in epoch seconds.
 */
record Claims(List<String> publish, List<String> subscribe, Optional<Object> payload, Optional<Long> expiresAt) {

    Claims {
        publish = List.copyOf(publish);
        subscribe = List.copyOf(subscribe);
    }

    /** Reads the Mercure claims out of a token's payload; wrong types count as absent. */
    static Claims from(Map<String, Object> payload) {
        Object mercure = payload.get("mercure");
        Map<?, ?> m = mercure instanceof Map<?, ?> map ? map : Map.of();
        Object exp = payload.get("exp");
        return new Claims(strings(m.get("publish")), strings(m.get("subscribe")), Optional.ofNullable(m.get("payload")),
                exp instanceof Number n ? Optional.of(n.longValue()) : Optional.empty());
    }

    private static List<String> strings(Object o) {
        if (!(o instanceof List<?> list)) {
            return List.of();
        }
        return list.stream().filter(String.class::isInstance).map(String.class::cast).toList();
    }
}
