package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * Mercure 1.0 token validation (draft-dunglas-mercure-08 L464-547, L636-733): the token comes from
 * the {@code Authorization: Bearer} header, else the {@link #COOKIE} cookie (ignored when the header
 * is there); it is an RFC 9068 access token: header {@code typ} {@code at+jwt} or {@code
 * application/at+jwt} (case-insensitive), {@code iss} exactly one of the trusted issuers, verified
 * <em>only</em> by that issuer's keys for the role (a key never verifies a token that names another
 * issuer), {@code exp} required and in the future ({@code nbf} if present), {@code aud} (a string or
 * an array) containing the audience; its grants are its {@link AuthorizationDetails}. Other claims
 * ({@code sub}, {@code client_id}, {@code iat}, {@code jti}) are not required.
 *
 * <p>Refusals are {@link Rejection}s with their RFC 6750 error: no token → 401 with a bare
 * challenge; a token that fails any check → 401 {@code invalid_token}; a malformed presentation (an
 * {@code Authorization} header that is not {@code Bearer}, a token in the query) → 400 {@code
 * invalid_request}. Thread-safe; the stages never block (a JWK set being fetched completes them
 * later).
 */
final class AccessTokens {

    /** The cookie 1.0 recommends (L566-590). */
    static final String COOKIE = "__Secure-mercure_access_token";

    /** Whose token: a publisher's is checked with publisher keys, a subscriber's with subscriber keys. */
    enum Role {
        PUBLISHER, SUBSCRIBER
    }

    /**
     * A trusted issuer and its keys.
     *
     * @param id the exact {@code iss} value
     * @param publisher verifies its publishers' tokens, if it issues any
     * @param subscriber verifies its subscribers' tokens, if it issues any
     */
    record Issuer(String id, Optional<JwtVerifier> publisher, Optional<JwtVerifier> subscriber) {
        Issuer {
            Objects.requireNonNull(id, "id");
            if (id.isEmpty()) {
                throw new IllegalArgumentException("an issuer id must not be empty");
            }
        }

        Optional<JwtVerifier> keys(Role role) {
            return role == Role.PUBLISHER ? publisher : subscriber;
        }
    }

    /**
     * A valid token.
     *
     * @param issuer its {@code iss}
     * @param grants its Mercure grants
     * @param expiresAt its {@code exp}, epoch seconds
     * @param claims all its claims
     */
    record AccessToken(String issuer, AuthorizationDetails grants, long expiresAt, Claims claims) {
    }

    private final Map<String, Issuer> issuers;
    private final MatcherStore matchers;
    private final Clock clock;

    /**
     * @param issuers the trusted issuers (ids unique)
     * @param matchers checks grants' matchers
     * @param clock what {@code exp} and {@code nbf} are checked against
     * @throws IllegalArgumentException if two issuers have the same id
     */
    AccessTokens(List<Issuer> issuers, MatcherStore matchers, Clock clock) {
        Map<String, Issuer> byId = new LinkedHashMap<>();
        for (Issuer i : issuers) {
            if (byId.putIfAbsent(i.id(), i) != null) {
                throw new IllegalArgumentException("issuer " + i.id() + " is given twice");
            }
        }
        this.issuers = Map.copyOf(byId);
        this.matchers = matchers;
        this.clock = clock;
    }

    /** Whether any issuer has keys for the role. */
    boolean verifies(Role role) {
        return issuers.values().stream().anyMatch(i -> i.keys(role).isPresent());
    }

    /**
     * The token a request presents: the {@code Authorization: Bearer} header (scheme compared
     * case-insensitively), else the {@link #COOKIE} cookie, which counts only when {@code
     * cookieOrigins} accepts the request's {@code Origin} (or {@code Referer}'s origin).
     *
     * @param query the decoded query: a token there is refused
     * @param cookieOrigins the origins whose pages may use the cookie (CSRF, L1649-1655)
     * @return the token, or empty when none is presented
     * @throws Rejection 400 {@code invalid_request} for a header that is not a Bearer token, a
     *     token in the query, or a cookie without an allowed Origin/Referer
     */
    static Optional<String> presented(HubRequest req, Map<String, List<String>> query, Predicate<String> cookieOrigins)
            throws Rejection {
        if (query.containsKey("authorization") || query.containsKey("access_token")) {
            throw Rejection.invalidRequest("a token in the query is not accepted: send it in the Authorization header");
        }
        String header = req.header("Authorization");
        if (header != null) {
            if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
                throw Rejection.invalidRequest("the Authorization header must be a Bearer token");
            }
            return Optional.of(header.substring(7).strip());
        }
        Optional<String> cookie = Authorizer.cookie(req.header("Cookie"), COOKIE);
        if (cookie.isPresent()) {
            String origin = origin(req);
            if (origin == null || !cookieOrigins.test(origin)) {
                throw Rejection.invalidRequest("cookie authorization needs an Origin or Referer from an allowed origin");
            }
        }
        return cookie;
    }

    /** The request's Origin, else its Referer's origin, else null. */
    static String origin(HubRequest req) {
        String origin = req.header("Origin");
        if (origin != null) {
            return origin;
        }
        String referer = req.header("Referer");
        if (referer == null) {
            return null;
        }
        try {
            java.net.URI u = java.net.URI.create(referer);
            return u.getScheme() == null || u.getRawAuthority() == null ? null : u.getScheme() + "://" + u.getRawAuthority();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Validates a presented token.
     *
     * @param token the compact JWS
     * @param role whose keys verify it
     * @param audience the resource identifier {@code aud} must contain
     * @return the valid token, or a stage failed with a {@link Rejection} 401 {@code invalid_token}
     *     (its message says which check failed, never key material)
     */
    CompletionStage<AccessToken> validate(String token, Role role, String audience) {
        Issuer issuer;
        try {
            String iss = unverifiedIssuer(token);
            issuer = issuers.get(iss);
            if (issuer == null) {
                throw Rejection.invalidToken("the token's issuer is not trusted by this hub");
            }
        } catch (Rejection r) {
            return CompletableFuture.failedFuture(r);
        }
        return verify(issuer, role, token, clock.instant()).thenApply(claims -> {
            try {
                return check(claims, issuer.id(), audience);
            } catch (Rejection r) {
                throw new CompletionException(r);
            }
        });
    }

    /**
     * Verifies a token's signature, {@code exp} and {@code nbf} with one issuer's keys for a role;
     * shared with the compatibility mode's {@link LegacyAccess}.
     *
     * @param issuer whose keys verify it
     * @param role which of the issuer's keys
     * @param token the compact JWS
     * @param now what {@code exp} and {@code nbf} are checked against
     * @return the token's claims, or a stage failed with a {@link Rejection} 401 {@code invalid_token}
     *     when the issuer has no keys for the role or the token does not verify (other failures, e.g.
     *     a JWK set that cannot be fetched, pass through)
     */
    static CompletionStage<Claims> verify(Issuer issuer, Role role, String token, Instant now) {
        Optional<JwtVerifier> keys = issuer.keys(role);
        if (keys.isEmpty()) {
            return CompletableFuture.failedFuture(Rejection.invalidToken("the token's issuer has no "
                    + (role == Role.PUBLISHER ? "publisher" : "subscriber") + " keys on this hub"));
        }
        return keys.get().verify(token, now).handle((claims, error) -> {
            if (error != null) {
                Throwable cause = Rejection.cause(error);
                if (cause instanceof JwtException) {
                    throw new CompletionException(Rejection.invalidToken(cause.getMessage()));
                }
                throw error instanceof CompletionException c ? c : new CompletionException(error);
            }
            return claims;
        });
    }

    private AccessToken check(Claims claims, String issuer, String audience) throws Rejection {
        String typ = claims.typ().orElse("");
        if (!typ.equalsIgnoreCase("at+jwt") && !typ.equalsIgnoreCase("application/at+jwt")) {
            throw Rejection.invalidToken("the token is not an RFC 9068 access token (typ must be at+jwt)");
        }
        if (!issuer.equals(claims.all().get("iss"))) {
            throw Rejection.invalidToken("the token's issuer is not trusted by this hub"); // cannot happen: checked before
        }
        if (claims.expiresAt().isEmpty()) {
            throw Rejection.invalidToken("the token has no exp");
        }
        Object aud = claims.all().get("aud");
        boolean audienceOk = aud instanceof String s ? s.equals(audience)
                : aud instanceof List<?> list && list.contains(audience);
        if (!audienceOk) {
            throw Rejection.invalidToken("the token's aud does not name this hub (" + audience + ")");
        }
        AuthorizationDetails grants;
        try {
            grants = AuthorizationDetails.parse(claims.all().get("authorization_details"), matchers);
        } catch (IllegalArgumentException e) {
            throw Rejection.invalidToken("invalid authorization_details: " + e.getMessage());
        }
        return new AccessToken(issuer, grants, claims.expiresAt().get(), claims);
    }

    /** The {@code iss} of a token not verified yet, to choose its keys; linear in the token's length. */
    static String unverifiedIssuer(String token) throws Rejection {
        if (token.length() > JwtVerifier.MAX_TOKEN_LENGTH) {
            throw Rejection.invalidToken("malformed token: longer than " + JwtVerifier.MAX_TOKEN_LENGTH + " characters");
        }
        int dot1 = token.indexOf('.');
        int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
        if (dot1 <= 0 || dot2 < 0) {
            throw Rejection.invalidToken("malformed token: a JWS has three dot-separated parts");
        }
        Object iss;
        try {
            String json = new String(Base64.getUrlDecoder().decode(token.substring(dot1 + 1, dot2)), UTF_8);
            Map<String, Object> payload = JSONObjectUtils.parse(json);
            iss = payload == null ? null : payload.get("iss");
        } catch (java.text.ParseException | RuntimeException e) {
            throw Rejection.invalidToken("malformed token: the payload is not base64url JSON");
        }
        if (!(iss instanceof String s)) {
            throw Rejection.invalidToken("the token has no iss");
        }
        return s;
    }
}
