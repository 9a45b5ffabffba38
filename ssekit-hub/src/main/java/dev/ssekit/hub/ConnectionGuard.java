package dev.ssekit.hub;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds what a connection costs between and inside requests (issue #28), in front of the body
 * aggregator: the request-head deadline of a new connection is {@code NettySseServer}'s; after it,
 * <ul>
 * <li>a kept-alive HTTP/1.1 connection must send its next complete request head within {@link
 * HubConfig.Limits#idleTimeout()} of its last response (an idle connection, or a head trickled a
 * byte at a time, is closed);</li>
 * <li>a request body must arrive within {@link HubConfig.Limits#bodyTimeout()} of its head, and at
 * {@link HubConfig.Limits#bodyMinRate()} bytes a second at least over each {@link
 * HubConfig.Limits#RATE_WINDOW} (else the connection is closed);</li>
 * <li>the body bytes of requests still arriving, over every connection, are at most {@link
 * HubConfig.Limits#maxPendingBytes()}: the request that would pass it is answered 503 and its
 * connection closed;</li>
 * <li>a publish is decided on its head first: without a credential, or with one that does not
 * verify, it is refused at once, before its body is read (and before {@code Expect: 100-continue} is
 * answered); while its token is being verified (a JWK set being fetched), reading stops and the head,
 * with what the same read brought after it, is held here: the aggregator behind sees nothing (so
 * answers no 100), the body rate floor does not count the pause, and more than {@link
 * HubConfig.Limits#maxUnverifiedBytes()} held is answered 413 and the connection closed.</li>
 * <li>an HTTP/1.1 request that arrives while the connection cannot take more answers (a client that
 * pipelines and does not read) waits, and reading stops, until the answers written drain;</li>
 * <li>an HTTP/2 connection none of whose streams is open is closed after {@link
 * HubConfig.Limits#idleTimeout()} (a GOAWAY, then the close).</li>
 * </ul>
 * One instance per connection (or HTTP/2 stream); event loop only.
 */
final class ConnectionGuard extends ChannelDuplexHandler {

    private static final System.Logger LOG = System.getLogger(ConnectionGuard.class.getName());

    private final MercureProtocol protocol;
    private final HubConfig.Limits limits;
    /** Body bytes of requests still arriving, over every connection. */
    private final AtomicLong pending;

    /** Requests whose head arrived, and responses completed: equal when the connection is idle. */
    private long requests;
    private long responses;
    /** Body bytes of the request arriving now, counted in {@link #pending}. */
    private long held;
    /** Body bytes in the current rate window. */
    private long windowBytes;
    private boolean inBody;
    /** A refusal has been written: what the client still sends is dropped. */
    private boolean refused;
    private ScheduledFuture<?> idle;
    private ScheduledFuture<?> bodyTotal;
    private ScheduledFuture<?> rate;
    /** HTTP/1.1: what arrived while the connection could not take more answers, in order ({@link #throttled}). */
    private final java.util.ArrayDeque<Object> backlog = new java.util.ArrayDeque<>();
    /** Reading stopped until {@link #backlog} drains. */
    private boolean throttled;
    /**
     * A publish whose token is being verified: what arrived after its head (already processed), in
     * order, not yet processed; null when none is.
     */
    private java.util.ArrayDeque<Object> unverified;
    /** The head held while its token is verified. */
    private HttpRequest unverifiedHead;
    /** Body bytes in {@link #unverified}. */
    private long unverifiedBytes;

    ConnectionGuard(MercureProtocol protocol, HubConfig.Limits limits, AtomicLong pending) {
        this.protocol = protocol;
        this.limits = limits;
        this.pending = pending;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (http1(ctx) && (!backlog.isEmpty() || msg instanceof HttpRequest && !ctx.channel().isWritable())) {
            // a client that pipelines requests and does not read the answers: the next request waits
            // (with what one read brought after it) until the answers already written drain, and reading
            // stops meanwhile; answered into memory, they grew without bound (issue #28 review)
            backlog.add(msg);
            if (!throttled) {
                throttled = true;
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        process(ctx, msg);
    }

    /** Goes on with the requests that waited for the connection to take more answers. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        drain(ctx);
        super.channelWritabilityChanged(ctx);
    }

    private void drain(ChannelHandlerContext ctx) throws Exception {
        while (!backlog.isEmpty() && ctx.channel().isWritable() && !refused) {
            process(ctx, backlog.poll());
        }
        if (refused) {
            releaseBacklog();
        }
        if (backlog.isEmpty() && throttled) {
            throttled = false;
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    private void releaseBacklog() {
        for (Object m; (m = backlog.poll()) != null;) {
            ReferenceCountUtil.release(m);
        }
    }

    private static boolean http1(ChannelHandlerContext ctx) {
        return ctx.channel().parent() instanceof io.netty.channel.ServerChannel;
    }

    private void process(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (unverified != null) { // what follows a publish whose token is being verified waits for the verdict
            unverified.add(msg);
            if (msg instanceof HttpContent c) {
                unverifiedBytes += c.content().readableBytes();
                if (unverifiedBytes > limits.maxUnverifiedBytes()) {
                    LOG.log(Level.INFO, "{0}: refused a publish: {1} body bytes arrived before its token was verified, over {2}",
                            AccessLog.remote(ctx.channel()), unverifiedBytes, limits.maxUnverifiedBytes());
                    HttpRequest head = unverifiedHead;
                    releaseUnverified();
                    refuse(ctx, head, HubResponse.text(413, "more than " + limits.maxUnverifiedBytes() + " body bytes arrived before"
                            + " the publisher's token was verified; send the body after Expect: 100-continue\n"));
                }
            }
            return;
        }
        if (msg instanceof HttpRequest head) {
            requests++;
            cancel(idle);
            idle = null;
            if (!(msg instanceof LastHttpContent) && (HttpUtil.getContentLength(head, 0L) > 0
                    || HttpUtil.isTransferEncodingChunked(head) || !(ctx.channel().parent() instanceof io.netty.channel.ServerChannel))) {
                startBody(ctx); // an HTTP/1.1 request without a body has no timers to set
            }
            if (!admit(ctx, head)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (unverified != null) {
                // its token is being verified: the head waits (so Expect: 100-continue is not answered yet),
                // and with it what the same read brought
                unverifiedHead = head;
                if (msg instanceof HttpContent c) { // a head with its body (HTTP/2): counted, then held
                    unverifiedBytes = c.content().readableBytes();
                }
                unverified.addFirst(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content && !(msg instanceof HttpRequest)) {
            int n = content.content().readableBytes();
            held += n;
            windowBytes += n;
            if (pending.addAndGet(n) > limits.maxPendingBytes()) {
                ReferenceCountUtil.release(msg);
                LOG.log(Level.WARNING, "{0}: refused a request body: {1} bytes of incomplete request bodies would pass"
                        + " --max-pending-body-mb", AccessLog.remote(ctx.channel()), pending.get());
                refuse(ctx, HubResponse.text(503, "the hub holds too many incomplete requests; retry shortly\n"), 5);
                return;
            }
            if (msg instanceof LastHttpContent) {
                endBody();
            }
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Decides a publish on its head: lets it through (true), stops reading until its token is
     * verified, or answers its refusal and closes (false).
     */
    private boolean admit(ChannelHandlerContext ctx, HttpRequest head) {
        if (!head.method().equals(HttpMethod.POST)) {
            return true;
        }
        HubRequest request;
        try {
            // with its peer: a trusted proxy's forwarded scheme decides the derived audience (issue #24)
            request = HubHandler.head(head).from(HubHandler.clientAddress(ctx.channel()));
        } catch (IllegalArgumentException malformed) {
            return true; // a path that does not decode: HubHandler answers it 400
        }
        CompletableFuture<Optional<HubResponse>> verdict = protocol.admitPublish(request).toCompletableFuture();
        if (verdict.isDone()) {
            Optional<HubResponse> refusal = verdict.join();
            refusal.ifPresent(r -> refuse(ctx, head, r));
            return refusal.isEmpty();
        }
        // a JWK set is being fetched: nothing more is read (so buffered) until the token is verified, and the
        // head and what came with it are held (process)
        ctx.channel().config().setAutoRead(false);
        unverified = new java.util.ArrayDeque<>();
        unverifiedBytes = 0;
        java.util.ArrayDeque<Object> held = unverified;
        verdict.whenComplete((refusal, e) -> ctx.executor().execute(() -> {
            if (unverified != held) {
                return; // refused meanwhile (too much body), or the connection closed: all released
            }
            if (refusal != null && refusal.isPresent()) {
                releaseUnverified();
                refuse(ctx, head, refusal.get());
                return;
            }
            unverified = null;
            unverifiedHead = null;
            unverifiedBytes = 0;
            ctx.fireChannelRead(held.poll()); // the head (processed already)
            for (Object m; (m = held.poll()) != null;) {
                process(ctx, m); // in order; a publish pipelined behind may be held again
            }
            if (unverified == null && !refused) {
                ctx.channel().config().setAutoRead(true);
                ctx.read();
            }
        }));
        return true;
    }

    private void releaseUnverified() {
        java.util.ArrayDeque<Object> held = unverified;
        unverified = null;
        unverifiedHead = null;
        unverifiedBytes = 0;
        if (held != null) {
            for (Object m; (m = held.poll()) != null;) {
                ReferenceCountUtil.release(m);
            }
        }
    }

    private void startBody(ChannelHandlerContext ctx) {
        inBody = true;
        windowBytes = 0;
        bodyTotal = ctx.executor().schedule(() -> tooSlow(ctx, "its body did not arrive within " + limits.bodyTimeout().toSeconds() + " s"),
                limits.bodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (limits.bodyMinRate() > 0) {
            long window = HubConfig.Limits.RATE_WINDOW.toNanos();
            rate = ctx.executor().scheduleAtFixedRate(() -> {
                if (unverified != null) {
                    // the hub stopped reading to verify the token: the client is not the slow one
                } else if (inBody && windowBytes < limits.bodyMinRate() * HubConfig.Limits.RATE_WINDOW.toSeconds()) {
                    tooSlow(ctx, "its body came at " + windowBytes / HubConfig.Limits.RATE_WINDOW.toSeconds()
                            + " bytes/s, under --body-min-rate " + limits.bodyMinRate());
                }
                windowBytes = 0;
            }, window, window, TimeUnit.NANOSECONDS);
        }
    }

    private void endBody() {
        inBody = false;
        release();
        cancel(bodyTotal);
        cancel(rate);
        bodyTotal = null;
        rate = null;
    }

    private void tooSlow(ChannelHandlerContext ctx, String why) {
        if (!inBody || !ctx.channel().isActive()) {
            return;
        }
        LOG.log(Level.INFO, "{0}: closing a connection whose request is too slow: {1}", AccessLog.remote(ctx.channel()), why);
        endBody();
        ctx.close();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        // an interim answer (100 Continue to Expect: 100-continue) is not the response: the body is still
        // to come, and the idle timer must not start under it (issue #28 review)
        if (msg instanceof LastHttpContent && !(msg instanceof io.netty.handler.codec.http.HttpResponse r
                && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL)) {
            responses++;
            if (responses >= requests && ctx.channel().parent() instanceof io.netty.channel.ServerChannel && !refused) {
                cancel(idle);
                idle = ctx.executor().schedule(() -> {
                    LOG.log(Level.DEBUG, "{0}: closing a connection idle for {1} s", AccessLog.remote(ctx.channel()),
                            limits.idleTimeout().toSeconds());
                    ctx.close();
                }, limits.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
            }
        }
        ctx.write(msg, promise);
    }

    /** Answers a refused publish (its head already decided) and closes once it is written. */
    private void refuse(ChannelHandlerContext ctx, HttpRequest head, HubResponse response) {
        AccessLog.response(AccessLog.remote(ctx.channel()), head, response.status(), response.body().length, System.nanoTime());
        refuse(ctx, response, 0);
    }

    private void refuse(ChannelHandlerContext ctx, HubResponse response, int retryAfter) {
        refused = true;
        endBody();
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(response.status()),
                Unpooled.wrappedBuffer(response.body()));
        response.headers().forEach(r.headers()::set);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        if (retryAfter > 0) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        HttpUtil.setKeepAlive(r, false);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.channel().config().setAutoRead(true); // read (and drop) until the close: a client blocked on its write sees it
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void release() {
        if (held > 0) {
            pending.addAndGet(-held);
            held = 0;
        }
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    /**
     * On an HTTP/2 stream: counts it among its connection's open streams, and when the last of them
     * closes, closes the connection after {@link HubConfig.Limits#idleTimeout()} unless another stream
     * opens meanwhile (the HTTP/1.1 idle timer, for a connection that carries streams; the request-head
     * deadline is lifted at its first stream). A stream that became an event stream counts until it closes.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        io.netty.channel.Channel stream = ctx.channel();
        io.netty.channel.Channel parent = stream.parent();
        if (parent != null && !(parent instanceof io.netty.channel.ServerChannel)) { // an HTTP/2 stream: its parent is the connection
            H2Idle connection = H2Idle.of(parent);
            connection.opened();
            java.time.Duration timeout = limits.idleTimeout();
            stream.closeFuture().addListener(f -> connection.closed(parent, timeout));
        }
    }

    /** An HTTP/2 connection's open streams and its idle timer; on its event loop only. */
    private static final class H2Idle {
        private static final io.netty.util.AttributeKey<H2Idle> KEY = io.netty.util.AttributeKey.valueOf(ConnectionGuard.class, "h2Idle");
        private int open;
        private ScheduledFuture<?> timer;

        static H2Idle of(io.netty.channel.Channel connection) {
            io.netty.util.Attribute<H2Idle> a = connection.attr(KEY);
            H2Idle idle = a.get();
            if (idle == null) {
                idle = new H2Idle();
                a.set(idle);
            }
            return idle;
        }

        void opened() {
            open++;
            cancel(timer);
            timer = null;
        }

        void closed(io.netty.channel.Channel connection, java.time.Duration idleTimeout) {
            if (--open > 0 || !connection.isActive()) {
                return;
            }
            cancel(timer);
            timer = connection.eventLoop().schedule(() -> {
                if (open == 0) {
                    LOG.log(Level.DEBUG, "{0}: closing an HTTP/2 connection without a stream for {1} s", AccessLog.remote(connection),
                            idleTimeout.toSeconds());
                    connection.close();
                }
            }, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    /** Leaves the pipeline when the connection becomes an event stream: nothing is timed any more. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.handlerRemoved(ctx);
    }

    private void stop() {
        releaseUnverified();
        releaseBacklog();
        endBody();
        cancel(idle);
        idle = null;
    }
}
