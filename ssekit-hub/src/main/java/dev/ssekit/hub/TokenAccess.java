package dev.ssekit.hub;

import dev.ssekit.hub.AccessTokens.Role;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * The request flow every {@link Access} shares, whatever protocol version it speaks: find the
 * presented token ({@link #token}, CSRF-checked against the role's origins), refuse or let in
 * anonymously when there is none, else validate it ({@link #validate}). Protocol-neutral: {@link
 * ModernAccess} and the compatibility-mode {@link LegacyAccess} extend it, so dropping 0.x deletes
 * only the latter. Thread-safe when the subclass is.
 */
abstract class TokenAccess implements Access {

    private final boolean anonymous;
    private final Predicate<String> subscribeOrigins;
    private final Predicate<String> publishOrigins;

    /**
     * @param anonymous whether subscribers without a token are let in (to public updates)
     * @param subscribeOrigins the origins whose pages may subscribe with a cookie
     * @param publishOrigins the origins whose pages may publish with a cookie
     */
    TokenAccess(boolean anonymous, Predicate<String> subscribeOrigins, Predicate<String> publishOrigins) {
        this.anonymous = anonymous;
        this.subscribeOrigins = subscribeOrigins;
        this.publishOrigins = publishOrigins;
    }

    /**
     * The token the request presents, if any.
     *
     * @throws Rejection when it is presented wrongly (e.g. a cookie from an origin not in {@code origins})
     */
    abstract Optional<String> token(HubRequest req, Map<String, List<String>> query, Predicate<String> origins)
            throws Rejection;

    /** The grants of a presented token, or a stage failed with a {@link Rejection}. */
    abstract CompletionStage<Grants> validate(String token, Role role, HubRequest req);

    @Override
    public final CompletionStage<Grants> publisher(HubRequest req, Map<String, List<String>> query) {
        return required(req, query, Role.PUBLISHER, publishOrigins, "a publisher token is required");
    }

    @Override
    public final CompletionStage<Grants> subscriber(HubRequest req, Map<String, List<String>> query) {
        return required(req, query, Role.SUBSCRIBER, subscribeOrigins, "a subscriber token is required");
    }

    @Override
    public final CompletionStage<Optional<Grants>> subscriberOrAnonymous(HubRequest req, Map<String, List<String>> query) {
        Optional<String> token;
        try {
            token = token(req, query, subscribeOrigins);
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
        if (token.isEmpty()) {
            return anonymous ? CompletableFuture.completedFuture(Optional.empty())
                    : CompletableFuture.failedFuture(Rejection.noToken("a subscriber token is required"));
        }
        return validate(token.get(), Role.SUBSCRIBER, req).thenApply(Optional::of);
    }

    private CompletionStage<Grants> required(HubRequest req, Map<String, List<String>> query, Role role, Predicate<String> origins,
            String missing) {
        try {
            Optional<String> token = token(req, query, origins);
            if (token.isEmpty()) {
                return CompletableFuture.failedFuture(Rejection.noToken(missing));
            }
            return validate(token.get(), role, req);
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
    }
}
