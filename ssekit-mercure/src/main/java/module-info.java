/**
 * ssekit Mercure client: publish to and subscribe at a Mercure 1.0 hub from a Java service. See
 * {@link dev.ssekit.mercure.MercureClient}.
 *
 * <p>Tokens are RFC 9068 access tokens signed with Nimbus JOSE+JWT; updates are published over
 * {@code java.net.http}; subscriptions are ssekit-client {@code EventSource}s (one SSE parser, the
 * codec's).
 */
module dev.ssekit.mercure {
    requires transitive dev.ssekit.client;
    requires com.nimbusds.jose.jwt;

    exports dev.ssekit.mercure;
}
