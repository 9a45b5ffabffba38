package dev.ssekit.hub;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.netty.NettySseServer;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;

/**
 * The running hub: a {@link NettySseServer} (HTTP/1.1 and h2c, epoll when available) whose every
 * request goes to a {@link HubHandler}, one {@link Broadcaster}, the active-subscription registry.
 */
final class MercureHub implements AutoCloseable {

    private final NettySseServer server;
    private final Broadcaster hub;

    private MercureHub(NettySseServer server, Broadcaster hub) {
        this.server = server;
        this.hub = hub;
    }

    /**
     * Binds and starts.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    static MercureHub start(HubConfig config, Broadcaster hub, Scheduler scheduler, Clock clock) {
        Subscriptions subscriptions = new Subscriptions(hub, config.subscriptionEvents());
        NettySseServer server = NettySseServer.builder()
                .address(config.listen())
                .fallback(() -> List.<ChannelHandler>of(new HttpObjectAggregator(config.maxBodyBytes()),
                        new HubHandler(config, hub, subscriptions, scheduler, clock)))
                .start();
        return new MercureHub(server, hub);
    }

    InetSocketAddress address() {
        return server.address();
    }

    /** Sends every subscriber the shutdown event, then stops accepting and stops the event loops. */
    @Override
    public void close() {
        hub.close();
        server.close();
    }
}
