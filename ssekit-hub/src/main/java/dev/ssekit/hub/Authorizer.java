package dev.ssekit.hub;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * Mercure 0.x authorization, kept for compatibility mode ({@link LegacyAccess} reads tokens with
 * {@link #token(HubRequest, Map, Predicate, String)}): who may publish and subscribe
 * (draft-dunglas-mercure-07, "Authorization"): finds the token in
 * the {@code Authorization: Bearer} header, else the {@code authorization} query parameter, else
 * the {@code mercureAuthorization} cookie; a cookie counts only with an {@code Origin} or {@code
 * Referer} from an allowed origin (CSRF); the token is verified by the publisher's or the
 * subscriber's keys. Knows nothing of the server. Thread-safe.
 *
 * <p>Every stage completes exceptionally with a {@link Rejection} (401 or 403) when the request is
 * refused. A stage completes at once unless the keys must be fetched (a JWKS with an unknown key
 * id): it never blocks the calling thread.
 */
final class Authorizer {

    static final String COOKIE = "mercureAuthorization";

    private final JwtVerifier publisherKeys;
    private final JwtVerifier subscriberKeys;
    private final boolean anonymous;
    private final Predicate<String> allowedOrigin;
    private final Predicate<String> publishOrigin;
    private final Clock clock;

    /**
     * @param publisherKeys verify publishers' tokens
     * @param subscriberKeys verify subscribers' tokens
     * @param anonymous whether subscribers without a token are let in (to public updates)
     * @param allowedOrigin whether an origin may use cookie authorization
     * @param clock the time tokens' {@code exp} and {@code nbf} are checked against
     */
    Authorizer(JwtVerifier publisherKeys, JwtVerifier subscriberKeys, boolean anonymous, Predicate<String> allowedOrigin,
            Clock clock) {
        this(publisherKeys, subscriberKeys, anonymous, allowedOrigin, allowedOrigin, clock);
    }

    /**
     * As the other constructor, with an allowlist of its own for publishing with the cookie.
     *
     * @param allowedOrigin whether an origin may subscribe with the cookie
     * @param publishOrigin whether an origin may publish with the cookie (Mercure's {@code publish_origins})
     */
    Authorizer(JwtVerifier publisherKeys, JwtVerifier subscriberKeys, boolean anonymous, Predicate<String> allowedOrigin,
            Predicate<String> publishOrigin, Clock clock) {
        this.publisherKeys = publisherKeys;
        this.subscriberKeys = subscriberKeys;
        this.anonymous = anonymous;
        this.allowedOrigin = allowedOrigin;
        this.publishOrigin = publishOrigin;
        this.clock = clock;
    }

    /** A publisher's claims; refused (401) without a valid token. */
    CompletionStage<Claims> publisher(HubRequest req, Map<String, List<String>> query) {
        return required(publisherKeys, req, query, "a publisher token is required", publishOrigin);
    }

    /** A subscriber's claims; refused (401) without a valid token (the subscriptions API). */
    CompletionStage<Claims> subscriber(HubRequest req, Map<String, List<String>> query) {
        return required(subscriberKeys, req, query, "a subscriber token is required", allowedOrigin);
    }

    /**
     * A subscriber's claims, or empty for an anonymous subscriber when those are allowed; refused
     * (401) for a token that does not verify, or no token when anonymous subscribers are not allowed.
     */
    CompletionStage<Optional<Claims>> subscriberOrAnonymous(HubRequest req, Map<String, List<String>> query) {
        Optional<String> token;
        try {
            token = token(req, query, allowedOrigin);
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
        if (token.isEmpty()) {
            return anonymous ? CompletableFuture.completedFuture(Optional.empty())
                    : CompletableFuture.failedFuture(Rejection.noToken("a subscriber token is required"));
        }
        return verify(subscriberKeys, token.get()).thenApply(Optional::of);
    }

    private CompletionStage<Claims> required(JwtVerifier keys, HubRequest req, Map<String, List<String>> query, String missing,
            Predicate<String> origins) {
        try {
            Optional<String> token = token(req, query, origins);
            if (token.isEmpty()) {
                return CompletableFuture.failedFuture(Rejection.noToken(missing));
            }
            return verify(keys, token.get());
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
    }

    private CompletionStage<Claims> verify(JwtVerifier keys, String token) {
        return keys.verify(token, clock.instant()).handle((claims, error) -> {
            if (error == null) {
                return claims;
            }
            Throwable cause = Rejection.cause(error);
            if (cause instanceof JwtException) {
                throw new CompletionException(Rejection.invalidToken(cause.getMessage()));
            }
            throw error instanceof CompletionException c ? c : new CompletionException(error);
        });
    }

    /**
     * The request's token: the Authorization header, else the authorization query parameter, else
     * the cookie (CSRF-checked).
     *
     * @throws Rejection 401 for an Authorization header that is not a Bearer token or a cookie
     *     without Origin/Referer, 403 for a cookie from an origin not allowed
     */
    Optional<String> token(HubRequest req, Map<String, List<String>> query) throws Rejection {
        return token(req, query, allowedOrigin);
    }

    /**
     * The request's token as {@link #token(HubRequest, Map)}, a cookie checked against {@code origins}.
     *
     * @throws Rejection as {@link #token(HubRequest, Map)}
     */
    Optional<String> token(HubRequest req, Map<String, List<String>> query, Predicate<String> origins) throws Rejection {
        return token(req, query, origins, COOKIE);
    }

    /**
     * The 0.x token of a request: the Authorization header, else the {@code authorization} query
     * parameter, else the cookie of that name (CSRF-checked against {@code origins}).
     *
     * @throws Rejection as {@link #token(HubRequest, Map)}
     */
    static Optional<String> token(HubRequest req, Map<String, List<String>> query, Predicate<String> origins, String cookieName)
            throws Rejection {
        String header = req.header("Authorization");
        if (header != null) {
            if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw Rejection.invalidToken("the Authorization header must be a Bearer token");
            }
            return Optional.of(header.substring(7).trim());
        }
        List<String> param = query.get("authorization");
        if (param != null && !param.isEmpty()) {
            return Optional.of(param.getFirst());
        }
        Optional<String> cookie = cookie(req.header("Cookie"), cookieName);
        if (cookie.isPresent()) {
            checkCookieOrigin(req, origins);
        }
        return cookie;
    }

    /** Cookie authorization needs CSRF protection: an Origin or Referer from an allowed origin. */
    private static void checkCookieOrigin(HubRequest req, Predicate<String> allowedOrigin) throws Rejection {
        String origin = req.header("Origin");
        if (origin == null) {
            String referer = req.header("Referer");
            if (referer != null) {
                try {
                    java.net.URI u = java.net.URI.create(referer);
                    origin = u.getScheme() + "://" + u.getRawAuthority();
                } catch (IllegalArgumentException e) {
                    origin = null;
                }
            }
        }
        if (origin == null) {
            throw Rejection.invalidToken("cookie authorization needs an Origin or Referer header");
        }
        if (!allowedOrigin.test(origin)) {
            throw new Rejection(403, "origin not allowed for cookie authorization");
        }
    }

    /**
     * One cookie's value from a {@code Cookie} header (RFC 6265 section 5.4: {@code name=value} pairs
     * separated by {@code ;}; a quoted value loses its quotes). Linear in the header's length.
     */
    static Optional<String> cookie(String header, String name) {
        if (header == null) {
            return Optional.empty();
        }
        for (String pair : header.split(";", -1)) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).strip().equals(name)) {
                String value = pair.substring(eq + 1).strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                return Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
