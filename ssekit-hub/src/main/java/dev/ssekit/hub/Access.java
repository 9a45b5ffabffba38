package dev.ssekit.hub;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Who may publish and subscribe: finds a request's token, validates it and reads its grants. {@link
 * ModernAccess} is Mercure 1.0; {@link LegacyAccess} adds what compatibility mode 8 accepts. Every
 * stage completes exceptionally with a {@link Rejection} carrying its RFC 6750 error when the
 * request is refused; a stage completes at once unless keys must be fetched. Thread-safe.
 */
interface Access {

    /** A publisher's grants; refused without a valid token. */
    CompletionStage<Grants> publisher(HubRequest req, Map<String, List<String>> query);

    /** A subscriber's grants; refused without a valid token (the subscriptions API, the status feed). */
    CompletionStage<Grants> subscriber(HubRequest req, Map<String, List<String>> query);

    /**
     * A subscriber's grants, or empty for an anonymous subscriber when those are allowed; a token that
     * does not validate is refused even then.
     */
    CompletionStage<Optional<Grants>> subscriberOrAnonymous(HubRequest req, Map<String, List<String>> query);
}
