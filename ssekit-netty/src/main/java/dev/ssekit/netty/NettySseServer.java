package dev.ssekit.netty;

import dev.ssekit.SseOptions;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
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
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * A small SSE server on Netty 4.2: {@code GET} paths mapped to {@link SseHandler}s, HTTP/1.1 and
 * HTTP/2 over cleartext (h2c, by upgrade or prior knowledge) on the same port, or HTTPS with HTTP/2
 * and HTTP/1.1 chosen by ALPN ({@link Builder#tls}); native epoll when available and NIO otherwise.
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

    /**
     * A server TLS context fit for {@link Builder#tls}: the JDK's TLS implementation (no native
     * library needed), TLS 1.3 and 1.2 only, HTTP/2's cipher suites (those the JDK supports), and
     * ALPN offering {@code h2} then {@code http/1.1} (a client without ALPN gets HTTP/1.1).
     *
     * @param key the private key of {@code chain}'s first certificate
     * @param chain the certificate chain, the server's own certificate first
     * @return a new context; immutable and thread-safe
     * @throws NullPointerException if an argument or certificate is null
     * @throws IllegalArgumentException if the chain is empty, the key does not belong to the first
     *     certificate, or the JDK cannot make a context of them
     */
    public static SslContext tlsContext(PrivateKey key, List<X509Certificate> chain) {
        Objects.requireNonNull(key, "key");
        X509Certificate[] certificates = List.copyOf(chain).toArray(X509Certificate[]::new);
        if (certificates.length == 0) {
            throw new IllegalArgumentException("chain must hold at least the server's certificate");
        }
        checkKeyMatches(key, certificates[0]);
        try {
            return SslContextBuilder.forServer(key, certificates)
                    .sslProvider(SslProvider.JDK)
                    .protocols(TLS_PROTOCOLS)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("cannot make a TLS context of this key and chain: " + e.getMessage(), e);
        }
    }

    /** The TLS versions a connection may use, newest first. */
    private static final String[] TLS_PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** Signs a random challenge with {@code key} and verifies it with the certificate's public key. */
    private static void checkKeyMatches(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null; // another kind: the handshake will tell
        };
        if (algorithm == null) {
            return;
        }
        boolean matches;
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(challenge);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false;
        }
        if (!matches) {
            throw new IllegalArgumentException("the " + key.getAlgorithm() + " private key does not belong to the certificate "
                    + certificate.getSubjectX500Principal().getName());
        }
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
        private SseOptions connectionOptions = SseOptions.defaults();
        private Supplier<List<ChannelHandler>> fallback;
        private Duration requestHeadTimeout = Duration.ofSeconds(10);
        private Supplier<? extends SslContext> tls;

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
         * get 404 (405 for another method on a route's path). Once an HTTP/1.1 connection carries an
         * event stream (a route's, or one a fallback handler started with {@link NettySse#start}),
         * no other request is answered on it: its handlers, these included, leave the pipeline
         * (their {@code handlerRemoved} runs; release what they hold there) and a small shared
         * handler frames the stream, which saves about 1 KB of heap per idle connection.
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
         * Serves HTTPS instead of cleartext HTTP: every connection begins with a TLS handshake
         * (TLS 1.3 or 1.2; older versions are refused whatever the context allows), then speaks
         * the protocol ALPN chose: HTTP/2 for {@code h2}, HTTP/1.1 for {@code http/1.1} or when the
         * client offers no ALPN. The same routes and fallback serve both.
         *
         * <p>{@code contexts} is called once for each new connection, on its event loop, and must
         * return quickly (hand back a context made earlier): a supplier that returns a new context
         * after a certificate is renewed applies it to new connections, while open connections keep
         * the one they began with. If it throws or returns null for a connection, that connection is
         * closed and the server goes on. Make the contexts with {@link #tlsContext}, or with
         * Netty's {@code SslContextBuilder.forServer} and an ALPN configuration of your own.
         * {@link Builder#start()} calls it once to check it.
         *
         * @param contexts supplies server-side contexts; thread-safe
         * @return this builder
         * @throws NullPointerException if {@code contexts} is null
         */
        public Builder tls(Supplier<? extends SslContext> contexts) {
            this.tls = Objects.requireNonNull(contexts, "contexts");
            return this;
        }

        /**
         * Whether to speak HTTP/2: over cleartext, h2c (by upgrade or prior knowledge); with
         * {@link #tls}, {@code h2} by ALPN. Default on.
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
         * The settings of every stream the routes start: the write timeout of {@code send} and
         * {@code comment} (default 30 s) and the close grace (default 1 s), after which a close
         * that cannot write its last event aborts the connection.
         *
         * @param options the connections' settings
         * @return this builder
         * @throws NullPointerException if {@code options} is null
         */
        public Builder connectionOptions(SseOptions options) {
            this.connectionOptions = Objects.requireNonNull(options, "options");
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
         * @throws IllegalArgumentException naming the setting and value when one is invalid; for
         *     {@code tls}: its supplier throws or returns null or a client-side context, or offers
         *     {@code h2} by ALPN while {@code http2(false)}
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
            Supplier<? extends SslContext> contexts = tls;
            if (contexts != null) {
                checkTls(contexts, http2);
            }
            boolean epoll = preferEpoll && Epoll.isAvailable();
            IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
            Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(eventLoops, io);
            Executor handlers = executor != null ? executor : Executors.newVirtualThreadPerTaskExecutor();
            Pipelines pipelines = new Pipelines(Map.copyOf(routes), handlers, fallback, connectionOptions);
            boolean h2c = http2;
            Duration headTimeout = requestHeadTimeout;
            try {
                Channel ch = new ServerBootstrap().group(group).channel(channelType)
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.RECVBUF_ALLOCATOR, RECEIVE_BUFFERS)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel c) {
                                if (contexts != null) {
                                    initTls(c, contexts, h2c, pipelines, headTimeout);
                                } else if (h2c) {
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

    /** Calls the TLS supplier once and checks what it returns; errors name the setting. */
    private static void checkTls(Supplier<? extends SslContext> contexts, boolean http2) {
        SslContext first;
        try {
            first = contexts.get();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("tls: the context supplier failed: " + e.getMessage(), e);
        }
        if (first == null) {
            throw new IllegalArgumentException("tls: the context supplier returned null");
        }
        if (!first.isServer()) {
            throw new IllegalArgumentException("tls: the context supplier returned a client-side context; make a server one (tlsContext)");
        }
        if (!http2 && first.applicationProtocolNegotiator().protocols().contains(ApplicationProtocolNames.HTTP_2)) {
            throw new IllegalArgumentException("tls: the context offers h2 by ALPN, but http2 is off (http2(false))");
        }
    }

    /** What follows the HTTP codec: the routes, then the fallback handlers (or a 404 for the rest). */
    private record Pipelines(Map<String, SseHandler> routes, Executor executor, Supplier<List<ChannelHandler>> fallback,
            SseOptions options) {
        void addHandlers(ChannelPipeline p) {
            p.addLast(new MalformedRequests());
            if (!routes.isEmpty()) {
                p.addLast(new SseRoutingHandler(routes, fallback == null, executor, options));
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

    /**
     * Sizes each read's buffer by what the last reads took (Netty's default, which makes one
     * allocator per channel): one allocator, thread-safe, for all of them.
     */
    private static final AdaptiveRecvByteBufAllocator RECEIVE_BUFFERS = new AdaptiveRecvByteBufAllocator();

    /**
     * The upgrade handler's aggregation bound; only a request without a body is upgraded to h2c (one
     * with a body stays HTTP/1.1), so nothing near it is ever held.
     */
    static final int MAX_UPGRADE_BODY = 1 << 20;

    private static final System.Logger LOG = System.getLogger(NettySseServer.class.getName());

    /**
     * TLS with a context from the supplier, then HTTP/2 or HTTP/1.1 as ALPN chose: the same
     * handlers as over cleartext. The request-head deadline covers the handshake too.
     */
    private static void initTls(SocketChannel c, Supplier<? extends SslContext> contexts, boolean http2, Pipelines pipelines,
            Duration headTimeout) {
        SslContext context;
        try {
            context = Objects.requireNonNull(contexts.get(), "the tls context supplier returned null");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: no TLS context for the connection, closing it: {1}", c.remoteAddress(), e.toString());
            c.close();
            return;
        }
        SslHandler ssl = context.newHandler(c.alloc());
        SSLEngine engine = ssl.engine();
        engine.setEnabledProtocols(Arrays.stream(engine.getEnabledProtocols())
                .filter(p -> Arrays.asList(TLS_PROTOCOLS).contains(p)).toArray(String[]::new));
        ssl.setHandshakeTimeoutMillis(headTimeout.toMillis());
        c.pipeline().addLast(new HeadDeadline(headTimeout), ssl, new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
            @Override
            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                if (http2 && ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(streams(pipelines)));
                } else if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
                    ctx.pipeline().addLast(new HttpServerCodec(), firstRequest(pipelines));
                } else {
                    throw new IllegalStateException("ALPN chose a protocol this server does not speak: " + protocol);
                }
            }

            @Override
            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                // scanners and old clients fail all the time: one line, not a stack trace per connection
                LOG.log(System.Logger.Level.DEBUG, "{0}: TLS handshake failed: {1}", ctx.channel().remoteAddress(), cause.getMessage());
                ctx.close();
            }
        });
    }

    /** Sets up each HTTP/2 stream: HTTP objects, then the handlers. */
    private static ChannelInitializer<Http2StreamChannel> streams(Pipelines pipelines) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                HeadDeadline.satisfied(s); // a stream has begun: the connection sent its first request
                s.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true));
                pipelines.addHandlers(s.pipeline());
            }
        };
    }

    /**
     * After an HTTP/1.1 codec whose connection has a {@link HeadDeadline} in front of it (where it
     * sees bytes only): at the first request, lifts the deadline, adds the handlers and leaves.
     */
    private static ChannelHandler firstRequest(Pipelines pipelines) {
        return new SimpleChannelInboundHandler<HttpMessage>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpMessage msg) {
                HeadDeadline.satisfied(ctx.channel());
                ChannelPipeline p = ctx.pipeline();
                pipelines.addHandlers(p); // after this one, which then leaves: ctx passes on to them
                p.remove(this);
                ctx.fireChannelRead(ReferenceCountUtil.retain(msg));
            }
        };
    }

    /** HTTP/1.1, upgraded to h2c on request ({@code Upgrade: h2c}) or by prior knowledge. */
    private static void initH2c(SocketChannel c, Pipelines pipelines, Duration headTimeout) {
        ChannelInitializer<Http2StreamChannel> stream = streams(pipelines);
        HttpServerCodec source = new HttpServerCodec();
        // a request with a body is not upgraded: it stays HTTP/1.1 (RFC 9110 7.8 lets a server ignore
        // Upgrade), so its body reaches the handlers as it arrives instead of being aggregated here first,
        // before they could look at its head (a credential) and outside what they bound (issue #28 review)
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(source, protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new Http2ServerUpgradeCodec(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(stream))
                        : null, MAX_UPGRADE_BODY) {
            @Override
            protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
                return super.shouldHandleUpgradeRequest(req) && !HttpUtil.isTransferEncodingChunked(req)
                        && HttpUtil.getContentLength(req, 0L) == 0;
            }
        };
        c.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(source, upgrade, new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(stream));
            }
        }));
        c.pipeline().addFirst(new HeadDeadline(headTimeout)); // sees bytes only: told by the handlers below
        // no upgrade: plain HTTP/1.1 from here on
        c.pipeline().addLast(firstRequest(pipelines));
    }
}
