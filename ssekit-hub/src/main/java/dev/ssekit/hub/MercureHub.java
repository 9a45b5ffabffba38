package dev.ssekit.hub;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.SseMessage;
import dev.ssekit.netty.NettySseServer;
import dev.ssekit.redis.RedisEventLog;
import dev.ssekit.spi.EventLog;
import io.netty.channel.ChannelHandler;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The running hub: a {@link NettySseServer} (HTTP/1.1 and h2c, or HTTPS with HTTP/2 by ALPN when
 * {@link HubConfig#tls()} is set; epoll when available) whose every
 * request goes through a {@link HubHandler} to the one {@link MercureProtocol}, one {@link
 * Broadcaster}, the active-subscription registry. The broadcaster's {@link EventLog} (a file, or
 * Redis for many nodes) stores every update; the hub publishes with {@link
 * Broadcaster#publishAsync} and resumes a client after {@link EventLog#caughtUp()}.
 */
final class MercureHub implements AutoCloseable {

    /** How long close() lets streams take their shutdown event before the server stops. */
    private static final Duration DRAIN = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(MercureHub.class.getName());
    /** How many compiled topic selectors the hub keeps; the least used go first. */
    static final int SELECTOR_CACHE = 10_000;

    private final NettySseServer server;
    private final MercureProtocol protocol;
    private final Broadcaster hub;
    private final Subscriptions subscriptions;
    private final java.util.concurrent.atomic.AtomicInteger openStreams;
    private final java.util.Optional<CertificateFiles> tls;
    private final List<JwtVerifier> keys;
    /** The {@code --metrics-listen} listener, or null. */
    private final NettySseServer metrics;
    /** Drain and maximum connection age (issue #26). */
    private ConnectionLifetime lifetime;

    private MercureHub(NettySseServer server, MercureProtocol protocol, Broadcaster hub, Subscriptions subscriptions,
            java.util.concurrent.atomic.AtomicInteger openStreams, java.util.Optional<CertificateFiles> tls, List<JwtVerifier> keys,
            NettySseServer metrics) {
        this.metrics = metrics;
        this.openStreams = openStreams;
        this.server = server;
        this.protocol = protocol;
        this.hub = hub;
        this.subscriptions = subscriptions;
        this.tls = tls;
        this.keys = keys;
    }

    /**
     * Binds and starts a hub on {@code hub}, whose log stores the updates; {@link #close()} closes
     * the broadcaster first and its log last.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    static MercureHub start(HubConfig config, Broadcaster hub, Scheduler scheduler, Clock clock) {
        return start(config, ConnectionLifetime.Settings.NONE, hub, scheduler, clock);
    }

    /**
     * As {@link #start(HubConfig, Broadcaster, Scheduler, Clock)}, with a drain window and maximum
     * connection age (issue #26): {@link #close()} drains first, timed by {@code scheduler}.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    static MercureHub start(HubConfig config, ConnectionLifetime.Settings lifetimes, Broadcaster hub, Scheduler scheduler,
            Clock clock) {
        return start(config, lifetimes, hub, scheduler, clock, PRESENCE_TTL);
    }

    /** How long a node's subscribers stay listed on the other nodes after its last heartbeat to Redis. */
    static final Duration PRESENCE_TTL = Duration.ofSeconds(15);
    /** How many subscription updates the cluster's Redis stream keeps, about. */
    static final long PRESENCE_STREAM = 10_000;

    /**
     * As {@link #start(HubConfig, ConnectionLifetime.Settings, Broadcaster, Scheduler, Clock)}; on a
     * Redis log with subscription events on, the hub is a node of the cluster on that Redis: every
     * node lists and announces every node's subscriptions, and a node's stay listed {@code presenceTtl}
     * after its last heartbeat.
     *
     * @throws IllegalStateException if the address cannot be bound or Redis cannot be used
     */
    static MercureHub start(HubConfig config, ConnectionLifetime.Settings lifetimes, Broadcaster hub, Scheduler scheduler,
            Clock clock, Duration presenceTtl) {
        ConnectionLifetime lifetime = new ConnectionLifetime(lifetimes, scheduler);
        dev.ssekit.redis.RedisPresence presence = config.subscriptionEvents() && hub.log() instanceof RedisEventLog redis
                ? redis.presence(presenceTtl, PRESENCE_STREAM) : null;
        Subscriptions subscriptions = new Subscriptions(hub, config.subscriptionEvents(), presence);
        java.util.concurrent.atomic.AtomicInteger openStreams = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong pendingBodies = new java.util.concurrent.atomic.AtomicLong(); // issue #28
        MercureProtocol protocol = new MercureProtocol(config, hub, subscriptions,
                new TopicSelectorStore(SELECTOR_CACHE), scheduler, clock, lifetime);
        NettySseServer.Builder builder = NettySseServer.builder()
                .address(config.listen())
                .requestHeadTimeout(config.headerTimeout())
                .fallback(() -> List.<ChannelHandler>of(new ConnectionGuard(protocol, config.limits(), pendingBodies),
                        HubHandler.aggregator(config.maxBodyBytes()), new HubHandler(protocol, openStreams)));
        config.tls().ifPresent(builder::tls); // each new connection takes the newest certificate
        NettySseServer server;
        try {
            server = builder.start();
        } catch (RuntimeException e) { // the address is taken, say: what the hub was given stops too
            subscriptions.close();
            config.tls().ifPresent(CertificateFiles::close);
            config.verifiers().forEach(JwtVerifier::close);
            throw e;
        }
        NettySseServer metrics = null;
        if (config.limits().metricsListen().isPresent()) {
            try {
                metrics = MetricsListener.start(config.limits().metricsListen().get(), protocol::metrics);
            } catch (RuntimeException e) {
                server.close();
                subscriptions.close();
                config.tls().ifPresent(CertificateFiles::close);
                config.verifiers().forEach(JwtVerifier::close);
                throw e;
            }
        }
        MercureHub started = new MercureHub(server, protocol, hub, subscriptions, openStreams, config.tls(),
                config.verifiers(), metrics);
        started.lifetime = lifetime;
        return started;
    }

    /**
     * Starts the drain (see {@link ConnectionLifetime#drain()}) without waiting for it: {@code /readyz}
     * answers 503 and new subscriptions are refused at once, publishes are still accepted. Idempotent.
     *
     * @return completes when the last stream closed or the drain window is over
     */
    CompletionStage<Void> drain() {
        return lifetime.drain();
    }

    /**
     * Publishes an update: the stage completes with its id once the log has stored it, or
     * exceptionally when it cannot (history unwritable, Redis unreachable, the hub closing). On a
     * virtual thread, never on the event loop that read the request: with a file log the caller
     * may lead a batch of appends (file I/O, fsync) and its fan-out to every subscriber.
     */
    static CompletionStage<String> publish(Broadcaster hub, SseMessage message, List<String> topics, boolean restricted) {
        return publish(hub, message, topics, restricted, null);
    }

    /**
     * As {@link #publish(Broadcaster, SseMessage, List, boolean)}, with an idempotency key (null:
     * none): a log that honours keys answers a retry with the same key with the first outcome; an
     * outcome it cannot tell fails the stage with {@link dev.ssekit.spi.AppendOutcomeUnknownException}.
     */
    static CompletionStage<String> publish(Broadcaster hub, SseMessage message, List<String> topics, boolean restricted,
            String idempotencyKey) {
        // failures (IllegalStateException when closed, what the log fails with) complete the stage
        return CompletableFuture.supplyAsync(() -> hub.publishAsync(message, topics, restricted, idempotencyKey),
                task -> Thread.ofVirtual().name("ssekit-hub-publish").start(task)).thenCompose(stored -> stored);
    }

    /** Extra lines for {@code /metrics} about the log, in the Prometheus text format (empty unless Redis). */
    static String logMetrics(EventLog log) {
        if (!(log instanceof RedisEventLog redis)) {
            return "";
        }
        return "# HELP ssekit_redis_connected Whether this node reads the Redis stream now.\n"
                + "# TYPE ssekit_redis_connected gauge\nssekit_redis_connected " + (redis.connected() ? 1 : 0) + "\n"
                + "# HELP ssekit_redis_applied_sequence The sequence of the last event this node took from Redis.\n"
                + "# TYPE ssekit_redis_applied_sequence gauge\nssekit_redis_applied_sequence " + redis.appliedSequence() + "\n"
                + "# HELP ssekit_redis_gaps_total Events trimmed from the stream before this node read them.\n"
                + "# TYPE ssekit_redis_gaps_total counter\nssekit_redis_gaps_total " + redis.gaps() + "\n";
    }

    InetSocketAddress address() {
        return server.address();
    }

    /** The hub's subscribers and subscription events (for tests: who watches them). */
    Subscriptions subscriptions() {
        return subscriptions;
    }

    /** Where {@code /metrics} is served on a listener of its own ({@code --metrics-listen}), if it is. */
    java.util.Optional<InetSocketAddress> metricsAddress() {
        return java.util.Optional.ofNullable(metrics).map(NettySseServer::address);
    }

    /** {@code https} when the hub serves TLS, {@code http} otherwise. */
    String scheme() {
        return tls.isPresent() ? "https" : "http";
    }

    /**
     * Drains first (issue #26: {@code /readyz} 503, new subscriptions refused, streams closed spread over
     * the drain window with jittered retry hints, all at once with a window of zero; at most the window
     * plus 5 s), then sends every status page viewer the shutdown event and waits (up to 5 s) until
     * their streams have ended, then stops accepting and stops the event loops, and stops watching the TLS files.
     * Blocks.
     */
    @Override
    public void close() {
        // issue #26: first the drain (unready, streams closed spread over the window), bounded in real
        // time too: window plus a margin, should the scheduler not run
        Duration window = lifetime.settings().drain();
        try {
            drain().toCompletableFuture().get(window.toMillis() + DRAIN.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "the drain did not end within {0} s; closing what is left", window.plus(DRAIN)
                    .toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hub.close();
        subscriptions.close(); // the subscription updates' own broadcaster
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
            if (metrics != null) {
                metrics.close();
            }
            hub.log().close();
        } finally {
            tls.ifPresent(CertificateFiles::close);
            keys.forEach(JwtVerifier::close); // stops JWK set refreshes
        }
    }
}
