package dev.ssekit.hub;

import dev.ssekit.SseConnection;
import dev.ssekit.netty.NettySse;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The Netty side of the hub: translates each aggregated request into a {@link HubRequest}, hands
 * it to the {@link MercureProtocol}, and writes its decision back (a response, or an event stream
 * through {@link NettySse}). Nothing here blocks the event loop: while a decision is pending (a
 * publish being stored, keys being fetched) requests that arrive behind it (HTTP/1.1 pipelining)
 * wait in order, so answers keep the order of requests, and the first of them stops the channel
 * reading until the decision is answered (a client that waits for its answers, as most do, costs
 * no pause and resume of reading per request); on a
 * connection that became an event stream, later requests are never answered. Every response goes to the {@link AccessLog}. One instance per connection or
 * HTTP/2 stream.
 */
final class HubHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    /** The Mercure endpoint; see {@link MercureProtocol#PATH}. */
    static final String PATH = MercureProtocol.PATH;
    private static final byte[] OPENING_COMMENT = {':', '\n'};
    /**
     * The hub's streams end as the reference hub ends them, after the last event sent (at a token's
     * {@code exp}, at the maximum connection age, on shutdown): without ssekit's {@code event: close}
     * notice, which a Mercure client would see as a stray event. The other settings are the defaults.
     */
    static final dev.ssekit.SseOptions STREAM_OPTIONS = dev.ssekit.SseOptions.builder().closeEvent(false).build();
    private static final System.Logger LOG = System.getLogger(HubHandler.class.getName());

    private final MercureProtocol protocol;
    private final java.util.concurrent.atomic.AtomicInteger openStreams;
    /** Requests that arrived while {@link #busy}, retained, in order. Event loop only. */
    private final java.util.ArrayDeque<FullHttpRequest> waiting = new java.util.ArrayDeque<>();
    /** A decision is pending, or this connection carries an event stream. Event loop only. */
    private boolean busy;
    /** Reading stopped because a request arrived while {@link #busy}. Event loop only. */
    private boolean paused;
    private long started;
    /**
     * What the protocol asked to run should the client leave before the pending decision is answered
     * ({@link MercureProtocol.Departure}), or null. Event loop only.
     */
    private Runnable onLeave;
    /** The client's address as the access log writes it; the same for every request of this handler. */
    private String remote;

    /**
     * @param protocol decides
     * @param openStreams counts the event streams whose channel is still open (graceful shutdown
     *     waits for it: a stream's close callbacks run before its last bytes are written)
     */
    HubHandler(MercureProtocol protocol, java.util.concurrent.atomic.AtomicInteger openStreams) {
        this.protocol = protocol;
        this.openStreams = openStreams;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (busy) {
            // HTTP/1.1 pipelining: requests already decoded from the same read arrive although reading
            // is paused; they wait, so answers keep the order of requests (RFC 9112 9.3.2)
            waiting.add(req.retain());
            if (!paused) { // no more until the pending one is answered: what waits is what one read brought
                paused = true;
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        handle(ctx, req);
    }

    /**
     * Netty's aggregator for request bodies up to {@code maxBodyBytes}, whose 413 is logged like
     * every other refusal (Netty answers it without a word).
     */
    static HttpObjectAggregator aggregator(int maxBodyBytes) {
        return new HttpObjectAggregator(maxBodyBytes) {
            @Override
            protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
                logTooLarge(oversized);
                super.handleOversizedMessage(ctx, oversized);
            }

            @Override
            protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
                // with Expect: 100-continue (curl sends it for large bodies) the 413 is answered here
                Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
                if (answer instanceof HttpResponse a && a.status().code() == 413) {
                    logTooLarge(start);
                }
                return answer;
            }

            private void logTooLarge(HttpMessage message) {
                if (message instanceof HttpRequest r) {
                    LOG.log(Level.INFO, "{0} {1} rejected: 413 the body is over {2} bytes", r.method(), AccessLog.redact(r.uri()),
                            maxBodyBytes);
                }
            }
        };
    }

    /** Decides on one request and answers it, now or (asynchronously) when its decision is ready. */
    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        started = System.nanoTime();
        HubRequest request;
        try {
            request = translate(req).from(clientAddress(ctx.channel()));
        } catch (IllegalArgumentException e) {
            // Netty's decoder refuses malformed percent-encoding in the path; its message quotes the whole
            // URI, which may hold a token: neither logged nor echoed (issue #28)
            LOG.log(Level.INFO, "{0} {1} rejected: 400 malformed percent-encoding in the path", req.method(),
                    AccessLog.redact(req.uri()));
            send(ctx, req, HubResponse.text(400, "malformed request: malformed percent-encoding in the path\n"));
            return;
        }
        onLeave = null;
        CompletableFuture<MercureProtocol.Decision> decision = protocol.handle(request, action -> onLeave = action)
                .toCompletableFuture();
        if (decision.isDone()) {
            onLeave = null;
            act(ctx, req, decision.join());
            return;
        }
        busy = true;
        req.retain();
        decision.whenComplete((d, e) -> {
            try {
                ctx.executor().execute(() -> {
                    onLeave = null; // answered: a leave from now on is a closed stream or connection, nothing to drop
                    try {
                        if (e != null) { // handle() promises a decision; should it break that promise, answer 500
                            LOG.log(Level.ERROR, "no decision for " + req.method() + " " + AccessLog.redact(req.uri()), e);
                            send(ctx, req, HubResponse.text(500, "internal error\n"));
                        } else {
                            act(ctx, req, d);
                        }
                    } finally {
                        req.release();
                        if (paused) { // reading again also notices a client that leaves a stream (its FIN)
                            paused = false;
                            ctx.channel().config().setAutoRead(true);
                        }
                        if (!(d instanceof MercureProtocol.Stream)) {
                            busy = false;
                            next(ctx);
                        }
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the server is shutting down: nobody will answer; free what the decision holds
                if (d instanceof MercureProtocol.Stream s) {
                    s.abandon();
                }
                req.release();
            }
        });
    }

    /** Answers the requests that waited behind an asynchronous one, in order, until one waits again. */
    private void next(ChannelHandlerContext ctx) {
        while (!busy && !waiting.isEmpty()) {
            FullHttpRequest req = waiting.poll();
            try {
                handle(ctx, req);
            } finally {
                req.release();
            }
        }
    }

    /** Frees requests that waited on a connection that closed (or carries an event stream for good). */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Runnable leave = onLeave;
        onLeave = null;
        if (leave != null) { // the client left while its request waited for a decision (a subscription's compile)
            leave.run();
        }
        releaseWaiting();
        super.channelInactive(ctx);
    }

    /**
     * Frees requests that waited when this handler leaves: the server takes it out of the pipeline
     * once the connection carries an event stream (a pipelined request behind it is never answered).
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        releaseWaiting();
        super.handlerRemoved(ctx);
    }

    private void releaseWaiting() {
        for (FullHttpRequest req; (req = waiting.poll()) != null;) {
            req.release();
        }
    }

    /**
     * A request's head as a {@link HubRequest} without a body (a publish is decided on it before its
     * body is read).
     *
     * @throws IllegalArgumentException for malformed percent-encoding in the path
     */
    static HubRequest head(HttpRequest req) {
        return translate(req, new byte[0]);
    }

    /** The peer's IP address (an HTTP/2 stream's is its connection's), or "" when it has none. */
    static String clientAddress(io.netty.channel.Channel channel) {
        io.netty.channel.Channel c = channel.parent() != null && channel.remoteAddress() == null ? channel.parent() : channel;
        return c.remoteAddress() instanceof java.net.InetSocketAddress i && i.getAddress() != null ? i.getAddress().getHostAddress() : "";
    }

    private static HubRequest translate(FullHttpRequest req) {
        byte[] body = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), body);
        return translate(req, body);
    }

    private static HubRequest translate(HttpRequest req, byte[] body) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        Map<String, String> headers = new HashMap<>();
        for (Map.Entry<String, String> h : req.headers()) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            headers.merge(name, h.getValue(), (a, b) -> a + (name.equals("cookie") ? "; " : ", ") + b);
        }
        return new HubRequest(req.method().name(), uri.path(), uri.rawPath(), uri.rawQuery(), headers, body);
    }

    private void act(ChannelHandlerContext ctx, FullHttpRequest req, MercureProtocol.Decision decision) {
        switch (decision) {
            case MercureProtocol.Reply r -> send(ctx, req, r.response());
            case MercureProtocol.Stream s -> {
                // the response never ends while the stream is open: nothing else is answered on it
                busy = true;
                if (!ctx.channel().isActive()) {
                    s.abandon();
                    return;
                }
                try {
                    start(ctx, req, s);
                } catch (RuntimeException e) {
                    // a bug of ours: the slot is freed, the log gets the trace, the client a closed connection
                    s.abandon();
                    LOG.log(Level.ERROR, "could not start a stream for " + AccessLog.redact(req.uri()), e);
                    ctx.close();
                }
            }
        }
    }

    /** Writes the stream's head and opening comment, then lets the protocol register it. */
    private void start(ChannelHandlerContext ctx, FullHttpRequest req, MercureProtocol.Stream s) {
        HttpHeaders extra = new DefaultHttpHeaders();
        s.headers().forEach(extra::set);
        SseConnection conn = NettySse.start(ctx.channel(), req, extra, STREAM_OPTIONS);
        java.util.concurrent.atomic.AtomicInteger streams = openStreams; // the listener must not hold this handler
        streams.incrementAndGet();
        ctx.channel().closeFuture().addListener(f -> streams.decrementAndGet());
        long start = started;
        Channel channel = ctx.channel();
        String request = AccessLog.request(req); // not the request: its headers would stay for the stream's life
        String from = remote(channel);
        conn.onClose(reason -> AccessLog.stream(from, request, start, reason.name().toLowerCase(Locale.ROOT)));
        // the reference hub's first bytes: written before any event, on this event loop, in order
        ctx.channel().writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(OPENING_COMMENT)));
        s.open(conn, ctx.channel().eventLoop());
    }

    /**
     * A connection error (a reset, a broken pipe: the client went away) closes the channel, which
     * ends its stream; it is routine, so logged at DEBUG. Anything else is logged with its trace.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException || cause instanceof PrematureChannelClosureException) {
            // the client's doing (a reset; a close in the middle of a request body, also after a 413):
            // not worth a trace, and a client must not be able to fill the log with them
            LOG.log(Level.DEBUG, "connection error: {0}", cause.toString());
        } else {
            LOG.log(Level.WARNING, "closing a connection after an unexpected error", cause);
        }
        ctx.close();
    }

    private String remote(Channel channel) {
        String r = remote;
        if (r == null) {
            r = AccessLog.remote(channel);
            remote = r;
        }
        return r;
    }

    private void send(ChannelHandlerContext ctx, FullHttpRequest req, HubResponse response) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(response.status()),
                Unpooled.wrappedBuffer(response.body()));
        response.headers().forEach(r.headers()::set);
        if (response.status() != 204) {
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        }
        AccessLog.response(remote(ctx.channel()), req, response.status(), response.body().length, started);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(r, keepAlive);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
