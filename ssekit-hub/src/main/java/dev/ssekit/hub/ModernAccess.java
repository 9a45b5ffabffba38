package dev.ssekit.hub;

import dev.ssekit.hub.AccessTokens.Role;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Mercure 1.0 access: the token from the header or the {@code __Secure-mercure_access_token} cookie
 * ({@link AccessTokens#presented}), validated as an RFC 9068 access token for the request's
 * audience, granting its {@code authorization_details}. Thread-safe.
 */
final class ModernAccess implements Access {

    private final AccessTokens tokens;
    private final MatcherStore matchers;
    private final boolean anonymous;
    private final Predicate<String> subscribeOrigins;
    private final Predicate<String> publishOrigins;
    private final Function<HubRequest, String> audience;

    /**
     * @param tokens validates tokens
     * @param matchers compiles the grants' matchers
     * @param anonymous whether subscribers without a token are let in (to public updates)
     * @param subscribeOrigins the origins whose pages may subscribe with the cookie
     * @param publishOrigins the origins whose pages may publish with the cookie
     * @param audience the resource identifier a request's token must name in {@code aud}
     */
    ModernAccess(AccessTokens tokens, MatcherStore matchers, boolean anonymous, Predicate<String> subscribeOrigins,
            Predicate<String> publishOrigins, Function<HubRequest, String> audience) {
        this.tokens = tokens;
        this.matchers = matchers;
        this.anonymous = anonymous;
        this.subscribeOrigins = subscribeOrigins;
        this.publishOrigins = publishOrigins;
        this.audience = audience;
    }

    @Override
    public CompletionStage<Grants> publisher(HubRequest req, Map<String, List<String>> query) {
        return required(req, query, Role.PUBLISHER, publishOrigins, "a publisher token is required");
    }

    @Override
    public CompletionStage<Grants> subscriber(HubRequest req, Map<String, List<String>> query) {
        return required(req, query, Role.SUBSCRIBER, subscribeOrigins, "a subscriber token is required");
    }

    @Override
    public CompletionStage<Optional<Grants>> subscriberOrAnonymous(HubRequest req, Map<String, List<String>> query) {
        Optional<String> token;
        try {
            token = AccessTokens.presented(req, query, subscribeOrigins);
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
            Optional<String> token = AccessTokens.presented(req, query, origins);
            if (token.isEmpty()) {
                return CompletableFuture.failedFuture(Rejection.noToken(missing));
            }
            return validate(token.get(), role, req);
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
    }

    private CompletionStage<Grants> validate(String token, Role role, HubRequest req) {
        return tokens.validate(token, role, audience.apply(req)).thenApply(t -> Grants.of(t.grants(), matchers, t.expiresAt()));
    }
}
