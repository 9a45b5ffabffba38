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
 */
record HubConfig(InetSocketAddress listen, JwtVerifier publisherKey, JwtVerifier subscriberKey, boolean anonymous,
        Set<String> corsOrigins, int maxBodyBytes, int maxTopics, int maxConnections, boolean subscriptionEvents,
        boolean demo, String demoToken, java.time.Duration headerTimeout, java.util.Optional<CertificateFiles> tls) {

    HubConfig {
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

    boolean allowsOrigin(String origin) {
        return corsOrigins.contains("*") || corsOrigins.contains(origin);
    }
}
