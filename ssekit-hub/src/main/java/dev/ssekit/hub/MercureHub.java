package dev.ssekit.hub;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * The running hub: Netty (HTTP/1.1), one {@link Broadcaster}, the Mercure endpoints. Work in
 * progress (issue #6): no durable history, CORS preflight, metrics, demo page or active
 * subscriptions yet, and NIO only.
 */
final class MercureHub implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel channel;
    private final Broadcaster hub;

    private MercureHub(EventLoopGroup group, Channel channel, Broadcaster hub) {
        this.group = group;
        this.channel = channel;
        this.hub = hub;
    }

    static MercureHub start(HubConfig config, Broadcaster hub, Scheduler scheduler, Clock clock) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                NioIoHandler.newFactory());
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(config.maxBodyBytes()),
                                    new HubHandler(config, hub, scheduler, clock));
                        }
                    })
                    .bind(config.listen()).syncUninterruptibly().channel();
            return new MercureHub(group, ch, hub);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Sends every subscriber the shutdown event, then stops accepting and stops the event loops. */
    @Override
    public void close() {
        hub.close();
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
