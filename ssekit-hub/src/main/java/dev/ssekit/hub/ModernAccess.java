package dev.ssekit.hub;

import dev.ssekit.hub.AccessTokens.Role;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Mercure 1.0 access: the token from the header or the {@code __Secure-mercure_access_token} cookie
 * ({@link AccessTokens#presented}), validated as an RFC 9068 access token for the request's
 * audience, granting its {@code authorization_details}. Thread-safe.
 */
final class ModernAccess extends TokenAccess {

    private final AccessTokens tokens;
    private final MatcherStore matchers;
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
        super(anonymous, subscribeOrigins, publishOrigins);
        this.tokens = tokens;
        this.matchers = matchers;
        this.audience = audience;
    }

    @Override
    Optional<String> token(HubRequest req, Map<String, List<String>> query, Predicate<String> origins) throws Rejection {
        return AccessTokens.presented(req, query, origins);
    }

    @Override
    CompletionStage<Grants> validate(String token, Role role, HubRequest req) {
        return tokens.validate(token, role, audience.apply(req)).thenApply(t -> Grants.of(t.grants(), matchers, t.expiresAt()));
    }
}
