package dev.ssekit.hub;

import dev.ssekit.hub.AccessTokens.Issuer;
import dev.ssekit.hub.AccessTokens.Role;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * Access in compatibility mode 8 ({@code --protocol-version-compatibility 8}; MERCURE-1.0.md §3),
 * where 0.x and 1.0 clients are both served: the token may also come from the {@code authorization}
 * query parameter or the {@code mercureAuthorization} cookie ({@link Authorizer#token}, beside the
 * 1.0 cookie); {@code typ}, {@code aud} and {@code exp} are not required ({@code exp} and {@code nbf}
 * are enforced when present); an {@code iss} no issuer has falls back to the sole issuer, and is
 * refused when there are several; the grants are the token's {@code authorization_details} when it
 * has any entry, else its 0.x {@code mercure} claim ({@link LegacyGrants}). Dropping 0.x deletes
 * this class. Thread-safe.
 */
final class LegacyAccess extends TokenAccess {

    private final Map<String, Issuer> issuers;
    private final MatcherStore matchers;
    private final TopicSelectorStore selectors;
    private final Clock clock;

    /**
     * @param issuers the trusted issuers and their keys
     * @param matchers compiles 1.0 grants
     * @param selectors compiles 0.x grants
     * @param anonymous whether subscribers without a token are let in
     * @param subscribeOrigins the origins whose pages may subscribe with a cookie
     * @param publishOrigins the origins whose pages may publish with a cookie
     * @param clock what {@code exp}/{@code nbf} are checked against
     */
    LegacyAccess(List<Issuer> issuers, MatcherStore matchers, TopicSelectorStore selectors, boolean anonymous,
            Predicate<String> subscribeOrigins, Predicate<String> publishOrigins, Clock clock) {
        super(anonymous, subscribeOrigins, publishOrigins);
        Map<String, Issuer> byId = new LinkedHashMap<>();
        issuers.forEach(i -> byId.put(i.id(), i));
        this.issuers = byId;
        this.matchers = matchers;
        this.selectors = selectors;
        this.clock = clock;
    }

    /** Header, then the query parameter, then the 1.0 cookie, then the 0.x cookie (each cookie CSRF-checked). */
    @Override
    Optional<String> token(HubRequest req, Map<String, List<String>> query, Predicate<String> origins) throws Rejection {
        if (req.header("Authorization") == null && (query.get("authorization") == null || query.get("authorization").isEmpty())) {
            Optional<String> modern = Authorizer.cookie(req.header("Cookie"), AccessTokens.COOKIE);
            if (modern.isPresent()) {
                return AccessTokens.presented(req, Map.of(), origins);
            }
        }
        return Authorizer.token(req, query, origins, Authorizer.COOKIE);
    }

    @Override
    CompletionStage<Grants> validate(String token, Role role, HubRequest req) {
        Issuer issuer;
        try {
            issuer = issuer(token);
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
        return AccessTokens.verify(issuer, role, token, clock.instant()).thenApply(this::grants);
    }

    private Grants grants(Claims claims) {
        Object details = claims.all().get("authorization_details");
        if (details instanceof List<?> list && !list.isEmpty()) {
            try {
                AuthorizationDetails d = AuthorizationDetails.parse(details, matchers);
                long exp = claims.expiresAt().orElse(Long.MAX_VALUE);
                Grants g = Grants.of(d, matchers, exp);
                return claims.expiresAt().isPresent() ? g : new NoExpiry(g);
            } catch (IllegalArgumentException e) {
                throw new CompletionException(Rejection.invalidToken("invalid authorization_details: " + e.getMessage()));
            }
        }
        return new LegacyGrants(claims, selectors);
    }

    /** The issuer whose keys verify the token: its {@code iss}, else the sole issuer. */
    private Issuer issuer(String token) throws Rejection {
        String iss;
        try {
            iss = AccessTokens.unverifiedIssuer(token);
        } catch (Rejection noIss) {
            if (noIss.getMessage().contains("no iss") && issuers.size() == 1) {
                return issuers.values().iterator().next();
            }
            throw noIss;
        }
        Issuer i = issuers.get(iss);
        if (i == null && issuers.size() == 1) {
            return issuers.values().iterator().next();
        }
        if (i == null) {
            throw Rejection.invalidToken("the token's issuer is not trusted by this hub");
        }
        return i;
    }

    /** 1.0 grants of a token without {@code exp} (accepted in compatibility mode): no expiry. */
    private record NoExpiry(Grants g) implements Grants {
        @Override
        public boolean mayPublish(String topic) {
            return g.mayPublish(topic);
        }

        @Override
        public boolean maySubscribe(String topic) {
            return g.maySubscribe(topic);
        }

        @Override
        public List<dev.ssekit.TopicSelector> subscribeSelectors() {
            return g.subscribeSelectors();
        }

        @Override
        public Optional<Object> payloadFor(String matcherValue) {
            return g.payloadFor(matcherValue);
        }

        @Override
        public Optional<Long> expiresAt() {
            return Optional.empty();
        }
    }
}
