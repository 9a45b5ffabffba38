package dev.ssekit.hub;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Set;

/**
 * The hub's settings.
 *
 * @param listen where to listen
 * @param publisherKey verifies publishers' tokens
 * @param subscriberKey verifies subscribers' tokens
 * @param anonymous whether subscribers without a token are allowed (they get public updates only)
 * @param corsOrigins origins allowed for CORS and cookie authorization; {@code *} allows any
 * @param maxBodyBytes the largest publish body (bigger: 413)
 * @param maxTopics the most topics in one publish or subscribe (more: 400)
 * @param maxConnections the most subscribers at once (more: 503 with Retry-After)
 * @param subscriptionEvents whether active subscriptions are published and listed (Mercure's
 *     optional subscriptions feature)
 * @param demo whether the demo page is served at {@code /}
 * @param demoToken a publisher token filled into the demo page's form, or empty
 * @param headerTimeout how long a new connection may take to send its first request head
 * @param tls the certificate and key to serve HTTPS with (HTTP/2 by ALPN), reloaded when their files
 *     change; empty: cleartext HTTP (and h2c). The hub stops watching the files when it closes
 * @param limits what guards the hub against clients that spend its resources: timeouts of every phase of a
 *     connection, the memory incomplete requests may hold, the cookie publishers' origins, where {@code /metrics} is served
 * @param protocol the Mercure version(s) spoken, the token issuers and their keys, the audience
 */
record HubConfig(InetSocketAddress listen, JwtVerifier publisherKey, JwtVerifier subscriberKey, boolean anonymous,
        Set<String> corsOrigins, int maxBodyBytes, int maxTopics, int maxConnections, boolean subscriptionEvents,
        boolean demo, String demoToken, java.time.Duration headerTimeout, java.util.Optional<CertificateFiles> tls,
        Limits limits, Protocol protocol) {

    /**
     * The settings with these limits and {@link Protocol#compatible} protocol settings: Mercure 0.x
     * beside 1.0, {@code publisherKey} and {@code subscriberKey} the keys of one issuer. The hub's
     * tests of 0.x behaviour use this constructor.
     *
     * @throws IllegalArgumentException as the canonical constructor
     */
    HubConfig(InetSocketAddress listen, JwtVerifier publisherKey, JwtVerifier subscriberKey, boolean anonymous,
            Set<String> corsOrigins, int maxBodyBytes, int maxTopics, int maxConnections, boolean subscriptionEvents,
            boolean demo, String demoToken, java.time.Duration headerTimeout, java.util.Optional<CertificateFiles> tls,
            Limits limits) {
        this(listen, publisherKey, subscriberKey, anonymous, corsOrigins, maxBodyBytes, maxTopics, maxConnections, subscriptionEvents,
                demo, demoToken, headerTimeout, tls, limits, Protocol.compatible(publisherKey, subscriberKey));
    }

    /**
     * The Mercure protocol settings (issue #24).
     *
     * @param compatibility 0: Mercure 1.0 only; 8: also what the reference hub's compatibility mode 8
     *     accepts from 0.x clients ({@code --protocol-version-compatibility 8})
     * @param issuers the trusted token issuers, each with its own keys (never empty)
     * @param resourceId the audience tokens must name; empty: derived from each request (scheme,
     *     {@code Host}, hub path)
     * @param publicUrls the origins ({@code scheme://host[:port]}) the hub answers for; others get 421.
     *     Empty: any
     * @param maxConnectionsPerClient the most streams one client address may hold (then 429)
     * @param trustedProxies the addresses whose {@code Forwarded}/{@code X-Forwarded-For} name the client
     */
    record Protocol(int compatibility, java.util.List<AccessTokens.Issuer> issuers, java.util.Optional<String> resourceId,
            Set<String> publicUrls, int maxConnectionsPerClient, Set<String> trustedProxies) {

        /** The issuer id of keys given without an issuer in compatibility mode (0.x tokens need not name one). */
        static final String UNNAMED_ISSUER = "urn:ssekit:unnamed-issuer";
        /** The default of {@link #maxConnectionsPerClient}. */
        static final int DEFAULT_PER_CLIENT = 256;

        /**
         * @throws IllegalArgumentException naming the setting and its value when one is out of range
         */
        Protocol {
            if (compatibility != 0 && compatibility != 8) {
                throw new IllegalArgumentException("compatibility must be 0 (none) or 8, got " + compatibility);
            }
            issuers = java.util.List.copyOf(issuers);
            if (issuers.isEmpty()) {
                throw new IllegalArgumentException("issuers must not be empty");
            }
            Objects.requireNonNull(resourceId, "resourceId");
            publicUrls = Set.copyOf(publicUrls);
            trustedProxies = Set.copyOf(trustedProxies);
            if (maxConnectionsPerClient < 1) {
                throw new IllegalArgumentException("maxConnectionsPerClient must be at least 1: " + maxConnectionsPerClient);
            }
        }

        /** Compatibility mode 8 with these keys as one unnamed issuer's, the audience derived, no other limit. */
        static Protocol compatible(JwtVerifier publisherKey, JwtVerifier subscriberKey) {
            return new Protocol(8, java.util.List.of(new AccessTokens.Issuer(UNNAMED_ISSUER, java.util.Optional.of(publisherKey),
                    java.util.Optional.of(subscriberKey))), java.util.Optional.empty(), Set.of(), DEFAULT_PER_CLIENT, Set.of());
        }

        /** Mercure 1.0 only, with one issuer of these keys and a fixed resource identifier. */
        static Protocol modern(String issuer, JwtVerifier publisherKey, JwtVerifier subscriberKey, String resourceId) {
            return new Protocol(0, java.util.List.of(new AccessTokens.Issuer(issuer, java.util.Optional.of(publisherKey),
                    java.util.Optional.of(subscriberKey))), java.util.Optional.of(resourceId), Set.of(), DEFAULT_PER_CLIENT, Set.of());
        }

        /** Whether 0.x clients are served too. */
        boolean compat() {
            return compatibility != 0;
        }

        /** These settings with another per-client limit and trusted proxies. */
        Protocol withClientLimit(int perClient, Set<String> proxies) {
            return new Protocol(compatibility, issuers, resourceId, publicUrls, perClient, proxies);
        }

        /** These settings with other public URLs. */
        Protocol withPublicUrls(Set<String> urls) {
            return new Protocol(compatibility, issuers, resourceId, urls, maxConnectionsPerClient, trustedProxies);
        }
    }

    /**
     * The settings with {@link Limits#DEFAULT} limits.
     *
     * @throws IllegalArgumentException as the canonical constructor
     */
    HubConfig(InetSocketAddress listen, JwtVerifier publisherKey, JwtVerifier subscriberKey, boolean anonymous,
            Set<String> corsOrigins, int maxBodyBytes, int maxTopics, int maxConnections, boolean subscriptionEvents,
            boolean demo, String demoToken, java.time.Duration headerTimeout, java.util.Optional<CertificateFiles> tls) {
        this(listen, publisherKey, subscriberKey, anonymous, corsOrigins, maxBodyBytes, maxTopics, maxConnections, subscriptionEvents,
                demo, demoToken, headerTimeout, tls, Limits.DEFAULT);
    }

    /** These settings with other limits. */
    HubConfig withLimits(Limits other) {
        return new HubConfig(listen, publisherKey, subscriberKey, anonymous, corsOrigins, maxBodyBytes, maxTopics, maxConnections,
                subscriptionEvents, demo, demoToken, headerTimeout, tls, other, protocol);
    }

    /** Every key verifier the hub holds (the issuers' and the legacy pair), each once: the hub closes them. */
    java.util.List<JwtVerifier> verifiers() {
        java.util.Set<JwtVerifier> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        all.add(publisherKey);
        all.add(subscriberKey);
        for (AccessTokens.Issuer i : protocol.issuers()) {
            i.publisher().ifPresent(all::add);
            i.subscriber().ifPresent(all::add);
        }
        return java.util.List.copyOf(all);
    }

    /** These settings with other protocol settings. */
    HubConfig withProtocol(Protocol other) {
        return new HubConfig(listen, publisherKey, subscriberKey, anonymous, corsOrigins, maxBodyBytes, maxTopics, maxConnections,
                subscriptionEvents, demo, demoToken, headerTimeout, tls, limits, other);
    }

    /**
     * What guards the hub against clients that spend its resources (issue #28).
     *
     * @param publishOrigins the origins whose pages may publish with the {@code mercureAuthorization} cookie (the
     *     CSRF check; Mercure's {@code publish_origins}); never {@code *}
     * @param metricsListen where {@code /metrics} is served on a listener of its own; empty: not on one
     * @param metricsToken a bearer token that lets {@code /metrics} be read on the public port; empty: it is not
     *     served there
     * @param bodyTimeout the longest a request body may take, from its head to its end
     * @param bodyMinRate the fewest body bytes per second a request must send, measured over each {@link #RATE_WINDOW}
     * @param idleTimeout how long an HTTP/1.1 connection may wait between a response and the next complete request head
     * @param maxPendingBytes the most bytes of request bodies still arriving that the hub holds at once, over
     *     every connection (past it: 503 and the connection closes)
     * @param maxUnverifiedBytes the most body bytes of a publish the hub takes in while its token is being verified
     *     (a JWK set being fetched): what one read brought with the head is held, nothing more is read; past it,
     *     413 and the connection closes
     */
    record Limits(Set<String> publishOrigins, java.util.Optional<InetSocketAddress> metricsListen,
            java.util.Optional<String> metricsToken, java.time.Duration bodyTimeout, int bodyMinRate,
            java.time.Duration idleTimeout, long maxPendingBytes, int maxUnverifiedBytes) {

        /** The window over which {@link #bodyMinRate} is measured. */
        static final java.time.Duration RATE_WINDOW = java.time.Duration.ofSeconds(5);

        /**
         * No cookie publishers, {@code /metrics} nowhere, bodies within 30 s at 1 KiB/s at least, idle connections
         * for 30 s, 64 MiB of incomplete bodies, 64 KiB before a publisher's token is verified.
         */
        static final Limits DEFAULT = new Limits(Set.of(), java.util.Optional.empty(), java.util.Optional.empty(),
                java.time.Duration.ofSeconds(30), 1024, java.time.Duration.ofSeconds(30), 64L << 20, 64 << 10);

        /**
         * @throws IllegalArgumentException naming the setting and its value when one is out of range
         */
        Limits {
            publishOrigins = Set.copyOf(publishOrigins);
            Objects.requireNonNull(metricsListen, "metricsListen");
            Objects.requireNonNull(metricsToken, "metricsToken");
            if (metricsToken.isPresent() && metricsToken.get().isBlank()) {
                // an empty token would match "Authorization: Bearer " (issue #28 review)
                throw new IllegalArgumentException("metricsToken must not be empty or blank: \"" + metricsToken.get() + "\"");
            }
            if (publishOrigins.contains("*")) {
                throw new IllegalArgumentException("publishOrigins must list origins, not *: " + publishOrigins);
            }
            if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
                throw new IllegalArgumentException("bodyTimeout must be positive: " + bodyTimeout);
            }
            if (idleTimeout.isNegative() || idleTimeout.isZero()) {
                throw new IllegalArgumentException("idleTimeout must be positive: " + idleTimeout);
            }
            if (bodyMinRate < 0) {
                throw new IllegalArgumentException("bodyMinRate must be at least 0: " + bodyMinRate);
            }
            if (maxPendingBytes < 1) {
                throw new IllegalArgumentException("maxPendingBytes must be at least 1: " + maxPendingBytes);
            }
            if (maxUnverifiedBytes < 0) {
                throw new IllegalArgumentException("maxUnverifiedBytes must be at least 0: " + maxUnverifiedBytes);
            }
        }

        /** These limits with other cookie publishers' origins. */
        Limits withPublishOrigins(Set<String> origins) {
            return new Limits(origins, metricsListen, metricsToken, bodyTimeout, bodyMinRate, idleTimeout, maxPendingBytes,
                    maxUnverifiedBytes);
        }

        /** These limits with other body and idle timeouts. */
        Limits withTimeouts(java.time.Duration body, int minRate, java.time.Duration idle) {
            return new Limits(publishOrigins, metricsListen, metricsToken, body, minRate, idle, maxPendingBytes, maxUnverifiedBytes);
        }

        /** These limits with another cap on the bytes of incomplete bodies. */
        Limits withMaxPendingBytes(long bytes) {
            return new Limits(publishOrigins, metricsListen, metricsToken, bodyTimeout, bodyMinRate, idleTimeout, bytes,
                    maxUnverifiedBytes);
        }

        /** These limits with another bound on the body bytes taken in before a publisher's token is verified. */
        Limits withMaxUnverifiedBytes(int bytes) {
            return new Limits(publishOrigins, metricsListen, metricsToken, bodyTimeout, bodyMinRate, idleTimeout, maxPendingBytes, bytes);
        }

        /** These limits with {@code /metrics} on a listener of its own, or behind a token on the public port. */
        Limits withMetrics(java.util.Optional<InetSocketAddress> listen, java.util.Optional<String> token) {
            return new Limits(publishOrigins, listen, token, bodyTimeout, bodyMinRate, idleTimeout, maxPendingBytes, maxUnverifiedBytes);
        }
    }

    HubConfig {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(demoToken, "demoToken");
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(publisherKey, "publisherKey");
        Objects.requireNonNull(subscriberKey, "subscriberKey");
        corsOrigins = Set.copyOf(corsOrigins);
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be at least 1: " + maxBodyBytes);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
        }
        if (maxTopics < 1) {
            throw new IllegalArgumentException("maxTopics must be at least 1: " + maxTopics);
        }
    }

    /** Whether CORS lets pages of {@code origin} read the hub's answers (with {@code *}: any, without credentials). */
    boolean allowsOrigin(String origin) {
        return corsOrigins.contains("*") || corsOrigins.contains(origin);
    }

    /**
     * Whether pages of {@code origin} may send credentials (the cookie) and read the answers: listed by
     * name in the CORS origins or the publish origins, never by {@code *} (Mercure 1.0 section 1, rows 11 and 36).
     */
    boolean allowsCredentialsFrom(String origin) {
        return !origin.equals("*") && (corsOrigins.contains(origin) || limits.publishOrigins().contains(origin));
    }

    /** Whether pages of {@code origin} may publish with the cookie: listed in the publish origins. */
    boolean allowsCookiePublishFrom(String origin) {
        return limits.publishOrigins().contains(origin);
    }
}
