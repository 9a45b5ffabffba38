package dev.ssekit.netty;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;

/**
 * Stops requests the HTTP codec could not read before any handler acts on them (Netty passes them
 * on, marked as failed, with whatever it salvaged): 414 for a request line over the codec's limit,
 * 431 for headers over it, 400 for anything else malformed; then the connection closes. Not
 * sharable: one per channel.
 */
final class MalformedRequests extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(MalformedRequests.class.getName());
    private boolean failed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpObject o) || o.decoderResult().isSuccess()) {
            ctx.fireChannelRead(msg);
            return;
        }
        failed = true;
        DecoderResult result = o.decoderResult();
        ReferenceCountUtil.release(msg);
        HttpResponseStatus status = status(result.cause());
        LOG.log(Level.INFO, "{0}: refused a malformed request with {1}: {2}", ctx.channel().remoteAddress(), status.code(),
                String.valueOf(result.cause()));
        if (msg instanceof HttpRequest) {
            refuse(ctx, status);
        } else {
            ctx.close();
        }
    }

    /** Answers {@code status} with an empty body and {@code Connection: close}, then closes. */
    static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    static HttpResponseStatus status(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        if (cause instanceof TooLongFrameException) {
            return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }
}
