package dev.ssekit.hub;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.netty.NettySseServer;
import io.netty.channel.ChannelHandler;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The running hub: a {@link NettySseServer} (HTTP/1.1 and h2c, or HTTPS with HTTP/2 by ALPN when
 * {@link HubConfig#tls()} is set; epoll when available) whose every
 * request goes through a {@link HubHandler} to the one {@link MercureProtocol}, one {@link
 * Broadcaster}, the active-subscription registry.
 */
final class MercureHub implements AutoCloseable {

    /** How long close() lets streams take their shutdown event before the server stops. */
    private static final Duration DRAIN = Duration.ofSeconds(5);
    /** How many compiled topic selectors the hub keeps; the least used go first. */
    static final int SELECTOR_CACHE = 10_000;

    private final NettySseServer server;
    private final MercureProtocol protocol;
    private final Broadcaster hub;
    private final Publisher publisher;
    private final Subscriptions subscriptions;
    private final java.util.concurrent.atomic.AtomicInteger openStreams;
    private final java.util.Optional<CertificateFiles> tls;
    private final List<JwtVerifier> keys;

    private MercureHub(NettySseServer server, MercureProtocol protocol, Broadcaster hub, Publisher publisher, Subscriptions subscriptions,
            java.util.concurrent.atomic.AtomicInteger openStreams, java.util.Optional<CertificateFiles> tls, List<JwtVerifier> keys) {
        this.openStreams = openStreams;
        this.server = server;
        this.protocol = protocol;
        this.hub = hub;
        this.publisher = publisher;
        this.subscriptions = subscriptions;
        this.tls = tls;
        this.keys = keys;
    }

    /**
     * Binds and starts.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    static MercureHub start(HubConfig config, Broadcaster hub, Scheduler scheduler, Clock clock) {
        return start(config, hub, Publisher.local(hub), scheduler, clock);
    }

    /**
     * Binds and starts a hub whose updates go through {@code publisher} (which must feed {@code
     * hub}); {@link #close()} closes the publisher last.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    static MercureHub start(HubConfig config, Broadcaster hub, Publisher publisher, Scheduler scheduler, Clock clock) {
        Subscriptions subscriptions = new Subscriptions(publisher, config.subscriptionEvents());
        java.util.concurrent.atomic.AtomicInteger openStreams = new java.util.concurrent.atomic.AtomicInteger();
        MercureProtocol protocol = new MercureProtocol(config, hub, publisher, subscriptions,
                new TopicSelectorStore(SELECTOR_CACHE), scheduler, clock);
        NettySseServer.Builder builder = NettySseServer.builder()
                .address(config.listen())
                .requestHeadTimeout(config.headerTimeout())
                .fallback(() -> List.<ChannelHandler>of(HubHandler.aggregator(config.maxBodyBytes()),
                        new HubHandler(protocol, openStreams)));
        config.tls().ifPresent(builder::tls); // each new connection takes the newest certificate
        NettySseServer server;
        try {
            server = builder.start();
        } catch (RuntimeException e) { // the address is taken, say: what the hub was given stops too
            config.tls().ifPresent(CertificateFiles::close);
            config.publisherKey().close();
            config.subscriberKey().close();
            throw e;
        }
        return new MercureHub(server, protocol, hub, publisher, subscriptions, openStreams, config.tls(),
                List.of(config.publisherKey(), config.subscriberKey()));
    }

    InetSocketAddress address() {
        return server.address();
    }

    /** {@code https} when the hub serves TLS, {@code http} otherwise. */
    String scheme() {
        return tls.isPresent() ? "https" : "http";
    }

    /**
     * Sends every subscriber and status page viewer the shutdown event and waits (up to 5 s) until
     * their streams have ended, then stops accepting and stops the event loops, and stops watching the TLS files.
     * Blocks.
     */
    @Override
    public void close() {
        hub.close();
        protocol.close(); // the status streams
        long deadline = System.nanoTime() + DRAIN.toNanos();
        try {
            // streams' channels, not subscriber slots: a slot is freed by the close callbacks, which
            // run before the stream's last bytes are written; stopping the event loops then cut them
            while ((subscriptions.connections() > 0 || openStreams.get() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            server.close();
            publisher.close();
        } finally {
            tls.ifPresent(CertificateFiles::close);
            keys.forEach(JwtVerifier::close); // stops JWK set refreshes
        }
    }
}
