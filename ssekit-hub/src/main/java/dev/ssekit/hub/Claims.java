package dev.ssekit.hub;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Mercure claims of a verified token: {@code mercure.publish} and {@code mercure.subscribe}
 * (topic selectors; absent or empty means nothing is allowed), {@code mercure.payload} (any JSON,
 * exposed in subscription events), and {@code exp} in epoch seconds; and every claim of the
 * payload ({@code all}, as parsed JSON) with the JOSE header's {@code typ}, which the Mercure 1.0
 * checks read ({@link AccessTokens}).
 */
record Claims(List<String> publish, List<String> subscribe, Optional<Object> payload, Optional<Long> expiresAt,
        Map<String, Object> all, Optional<String> typ) {

    Claims {
        publish = List.copyOf(publish);
        subscribe = List.copyOf(subscribe);
        all = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(all));
    }

    /** The 0.x claims alone, as read from a {@code mercure} claim (no other claims, no header {@code typ}). */
    Claims(List<String> publish, List<String> subscribe, Optional<Object> payload, Optional<Long> expiresAt) {
        this(publish, subscribe, payload, expiresAt, Map.of(), Optional.empty());
    }

    /**
     * Reads the Mercure claims out of a token's payload (as JSON objects: {@code mercure} a Map, its
     * arrays Lists; {@code exp} a Number or a Date); wrong types count as absent.
     */
    static Claims from(Map<String, Object> payload) {
        return from(payload, Optional.empty());
    }

    /**
     * As {@link #from(Map)}, keeping every claim (for the 1.0 checks of {@code iss}, {@code aud} and
     * {@code authorization_details}) and the JOSE header's {@code typ}.
     *
     * @param payload the token's payload as parsed JSON (Numbers, Strings, Lists, Maps)
     * @param typ the header's {@code typ}, if any
     */
    static Claims from(Map<String, Object> payload, Optional<String> typ) {
        Object mercure = payload.get("mercure");
        Map<?, ?> m = mercure instanceof Map<?, ?> map ? map : Map.of();
        Object exp = payload.get("exp");
        Optional<Long> expiresAt = exp instanceof Number n ? Optional.of(n.longValue())
                : exp instanceof java.util.Date d ? Optional.of(d.getTime() / 1000) // JWTClaimsSet.getClaims() gives a Date
                : Optional.empty();
        return new Claims(strings(m.get("publish")), strings(m.get("subscribe")), Optional.ofNullable(m.get("payload")), expiresAt,
                payload, typ);
    }

    private static List<String> strings(Object o) {
        if (!(o instanceof List<?> list)) {
            return List.of();
        }
        return list.stream().filter(String.class::isInstance).map(String.class::cast).toList();
    }
}
