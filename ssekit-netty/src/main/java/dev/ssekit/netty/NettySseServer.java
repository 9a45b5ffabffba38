package dev.ssekit.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A small SSE server on Netty 4.2: {@code GET} paths mapped to {@link SseHandler}s, HTTP/1.1 and
 * HTTP/2 over cleartext (h2c, by upgrade or prior knowledge) on the same port, native epoll when
 * available and NIO otherwise.
 *
 * <pre>{@code
 * NettySseServer server = NettySseServer.builder()
 *         .address(new InetSocketAddress("127.0.0.1", 8080))
 *         .route("/events", (request, conn) -> hub.subscribe(conn, "news"))
 *         .start();
 * }</pre>
 *
 * <p>Handlers run on virtual threads, never on an event loop. Thread-safe; {@link #close()} stops
 * accepting and closes every connection.
 */
public final class NettySseServer implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final boolean epoll;

    private NettySseServer(EventLoopGroup group, Channel serverChannel, boolean epoll) {
        this.group = group;
        this.serverChannel = serverChannel;
        this.epoll = epoll;
    }

    /**
     * A builder: no routes, {@code 127.0.0.1} on an ephemeral port, h2c on, one event loop per core.
     *
     * @return a new builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Where the server listens.
     *
     * @return the bound address
     */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /**
     * Whether the native epoll transport is in use (NIO otherwise).
     *
     * @return {@code true} with epoll
     */
    public boolean isEpoll() {
        return epoll;
    }

    /** Stops accepting, closes every connection, and stops the event loops. Blocks up to 5 s. */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Builds and starts a {@link NettySseServer}. Not thread-safe. */
    public static final class Builder {
        private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
        private final Map<String, SseHandler> routes = new LinkedHashMap<>();
        private boolean http2 = true;
        private int eventLoops = Runtime.getRuntime().availableProcessors();
        private boolean preferEpoll = true;
        private Executor executor;
        private Supplier<List<ChannelHandler>> fallback;
        private Duration requestHeadTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /**
         * Where to listen.
         *
         * @param address the address (port 0: any free port)
         * @return this builder
         */
        public Builder address(InetSocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * Maps a path (exact, without query) to a handler.
         *
         * @param path starts with {@code /}
         * @param handler serves its SSE requests
         * @return this builder
         */
        public Builder route(String path, SseHandler handler) {
            routes.put(Objects.requireNonNull(path, "path"), Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /**
         * Handlers for the requests no route takes, for servers that answer more than event
         * streams. The factory runs once per HTTP/1.1 connection and once per HTTP/2 stream; its
         * handlers go after the HTTP codec (and after the routes), so they read {@code
         * HttpRequest}/{@code HttpContent} objects on either protocol. Without it, other requests
         * get 404 (405 for another method on a route's path).
         *
         * @param handlers makes a fresh, non-empty list of handlers each call
         * @return this builder
         */
        public Builder fallback(Supplier<List<ChannelHandler>> handlers) {
            this.fallback = Objects.requireNonNull(handlers, "handlers");
            return this;
        }

        /**
         * How long a new connection may take to send its first request head; then it is closed
         * (slow-header clients would otherwise hold connections forever). Default 10 s.
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder requestHeadTimeout(Duration timeout) {
            this.requestHeadTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Whether to accept HTTP/2 over cleartext (h2c). Default on.
         *
         * @param enabled {@code false} for HTTP/1.1 only
         * @return this builder
         */
        public Builder http2(boolean enabled) {
            this.http2 = enabled;
            return this;
        }

        /**
         * How many event loop threads. Default: one per core.
         *
         * @param threads at least 1
         * @return this builder
         */
        public Builder eventLoops(int threads) {
            this.eventLoops = threads;
            return this;
        }

        /**
         * Whether to use native epoll when it is available (default); {@code false} forces NIO.
         *
         * @param prefer {@code false} for NIO
         * @return this builder
         */
        public Builder preferEpoll(boolean prefer) {
            this.preferEpoll = prefer;
            return this;
        }

        /**
         * Where handlers run. Default: a new virtual thread each. Must never be an event loop.
         *
         * @param executor the executor
         * @return this builder
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Validates, binds and starts.
         *
         * @return the running server
         * @throws IllegalArgumentException naming the setting and value when one is invalid
         * @throws IllegalStateException if the address cannot be bound
         */
        public NettySseServer start() {
            if (routes.isEmpty() && fallback == null) {
                throw new IllegalArgumentException("routes must not be empty: add one with route(path, handler), or set a fallback");
            }
            for (String p : routes.keySet()) {
                if (!p.startsWith("/")) {
                    throw new IllegalArgumentException("route path must start with /: \"" + p + "\"");
                }
            }
            if (requestHeadTimeout.isNegative() || requestHeadTimeout.isZero()) {
                throw new IllegalArgumentException("requestHeadTimeout must be positive: " + requestHeadTimeout);
            }
            if (eventLoops < 1) {
                throw new IllegalArgumentException("eventLoops must be at least 1: " + eventLoops);
            }
            boolean epoll = preferEpoll && Epoll.isAvailable();
            IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
            Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(eventLoops, io);
            Executor handlers = executor != null ? executor : Executors.newVirtualThreadPerTaskExecutor();
            Pipelines pipelines = new Pipelines(Map.copyOf(routes), handlers, fallback);
            boolean h2c = http2;
            Duration headTimeout = requestHeadTimeout;
            try {
                Channel ch = new ServerBootstrap().group(group).channel(channelType)
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel c) {
                                if (h2c) {
                                    initH2c(c, pipelines, headTimeout);
                                } else {
                                    c.pipeline().addLast(new HttpServerCodec(), new HeadDeadline(headTimeout));
                                    pipelines.addHandlers(c.pipeline());
                                }
                            }
                        })
                        .bind(address).syncUninterruptibly().channel();
                return new NettySseServer(group, ch, epoll);
            } catch (RuntimeException e) {
                group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
        }
    }

    /** What follows the HTTP codec: the routes, then the fallback handlers (or a 404 for the rest). */
    private record Pipelines(Map<String, SseHandler> routes, Executor executor, Supplier<List<ChannelHandler>> fallback) {
        void addHandlers(ChannelPipeline p) {
            p.addLast(new MalformedRequests());
            if (!routes.isEmpty()) {
                p.addLast(new SseRoutingHandler(routes, fallback == null, executor));
            }
            if (fallback != null) {
                List<ChannelHandler> more = fallback.get();
                if (more == null || more.isEmpty()) {
                    throw new IllegalStateException("the fallback factory returned no handlers");
                }
                p.addLast(more.toArray(ChannelHandler[]::new));
            }
        }
    }

    /** The largest body of a request that asks for {@code Upgrade: h2c}; bigger ones get 413. */
    static final int MAX_UPGRADE_BODY = 1 << 20;

    /** HTTP/1.1, upgraded to h2c on request ({@code Upgrade: h2c}) or by prior knowledge. */
    private static void initH2c(SocketChannel c, Pipelines pipelines, Duration headTimeout) {
        ChannelInitializer<Http2StreamChannel> stream = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                HeadDeadline.satisfied(s); // a stream has begun: the connection sent its first request
                s.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
                pipelines.addHandlers(s.pipeline());
            }
        };
        HttpServerCodec source = new HttpServerCodec();
        // an upgrade request may carry a body (a POST to a fallback handler): up to MAX_UPGRADE_BODY
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(source, protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new Http2ServerUpgradeCodec(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(stream))
                        : null, MAX_UPGRADE_BODY);
        c.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(source, upgrade, new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(stream));
            }
        }));
        c.pipeline().addFirst(new HeadDeadline(headTimeout)); // sees bytes only: told by the handlers below
        // no upgrade: plain HTTP/1.1 from here on
        c.pipeline().addLast(new SimpleChannelInboundHandler<HttpMessage>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpMessage msg) {
                HeadDeadline.satisfied(ctx.channel());
                ChannelPipeline p = ctx.pipeline();
                pipelines.addHandlers(p); // after this one, which then leaves: ctx passes on to them
                p.remove(this);
                ctx.fireChannelRead(ReferenceCountUtil.retain(msg));
            }
        });
    }
}
