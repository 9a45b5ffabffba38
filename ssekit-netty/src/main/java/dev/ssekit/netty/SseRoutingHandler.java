package dev.ssekit.netty;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Turns {@code GET} requests for the mapped paths into {@link SseConnection}s. Put it after an
 * HTTP codec ({@code HttpServerCodec}, or {@code Http2StreamFrameToHttpObjectCodec} on an HTTP/2
 * stream). Requests for other paths go on down the pipeline, or, when this is the last handler
 * ({@code answerUnmatched}), get 404 (405 for another method on a mapped path).
 *
 * <p>On a matching request it sends the response head at once ({@code 200}, {@code
 * text/event-stream; charset=utf-8}, {@code Cache-Control: no-cache}, {@code X-Accel-Buffering:
 * no}; chunked and keep-alive on HTTP/1.1, close-delimited on HTTP/1.0), then runs the {@link SseHandler} on the executor (by
 * default a new virtual thread): no user code runs on the event loop. Not {@code @Sharable}: one
 * instance per channel.
 */
public final class SseRoutingHandler extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(SseRoutingHandler.class.getName());

    private final Map<String, SseHandler> routes;
    private final boolean answerUnmatched;
    private final Executor executor;
    private final SseOptions options;
    private boolean streaming;

    /**
     * A handler for the given routes.
     *
     * @param routes path (exact) to handler
     * @param answerUnmatched answer 404/405 instead of passing other requests on
     * @param executor where handlers run; must not be an event loop
     */
    public SseRoutingHandler(Map<String, SseHandler> routes, boolean answerUnmatched, Executor executor) {
        this(routes, answerUnmatched, executor, SseOptions.defaults());
    }

    /**
     * A handler for the given routes whose streams have the given settings.
     *
     * @param routes path (exact) to handler
     * @param answerUnmatched answer 404/405 instead of passing other requests on
     * @param executor where handlers run; must not be an event loop
     * @param options the streams' settings (write timeout, close grace)
     * @throws NullPointerException if {@code executor} or {@code options} is null
     */
    public SseRoutingHandler(Map<String, SseHandler> routes, boolean answerUnmatched, Executor executor, SseOptions options) {
        this.routes = Map.copyOf(routes);
        this.answerUnmatched = answerUnmatched;
        this.executor = Objects.requireNonNull(executor, "executor");
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (streaming) {
            ReferenceCountUtil.release(msg); // the rest of an SSE request (its empty body)
            return;
        }
        if (!(msg instanceof HttpRequest request)) {
            if (answerUnmatched && msg instanceof HttpContent) {
                ReferenceCountUtil.release(msg);
            } else {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        if (request.decoderResult().isFailure()) { // unreadable: never treat what the codec salvaged as a request
            HttpResponseStatus status = MalformedRequests.status(request.decoderResult().cause());
            ReferenceCountUtil.release(msg);
            MalformedRequests.refuse(ctx, status);
            streaming = true; // drop the rest
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        SseHandler handler = routes.get(path);
        if (handler == null || !request.method().equals(HttpMethod.GET)) {
            if (!answerUnmatched) {
                ctx.fireChannelRead(msg);
                return;
            }
            ReferenceCountUtil.release(msg);
            reject(ctx, request, handler == null ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        streaming = true;
        HttpRequest head = new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                request.headers().copy());
        ReferenceCountUtil.release(msg);
        SseConnection connection = NettySse.start(ctx.channel(), head, EmptyHttpHeaders.INSTANCE, options);
        executor.execute(() -> {
            try {
                handler.handle(head, connection);
            } catch (Exception | Error e) {
                LOG.log(Level.WARNING, "SseHandler for " + path + " threw; closing its connection", e);
                connection.close();
            }
        });
    }

    private static void reject(ChannelHandlerContext ctx, HttpRequest request, HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            r.headers().set(HttpHeaderNames.ALLOW, "GET");
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !(ctx.channel() instanceof Http2StreamChannel);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.DEBUG, "SSE channel error: {0}", cause.toString());
        ctx.close();
    }
}
