package dev.ssekit.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose first request head has not arrived within the deadline: the defence
 * against slow-header clients (slowloris) that would otherwise hold a connection, and a file
 * descriptor, forever. Leaves the pipeline once a head has arrived: it sees the head itself when it
 * sits after the HTTP codec, or is told by {@link #satisfied} (the h2c pipeline: the first HTTP/1.1
 * request, or the first HTTP/2 stream). Not sharable: one per channel.
 */
final class HeadDeadline extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(HeadDeadline.class.getName());
    private final Duration deadline;
    private ScheduledFuture<?> timer;

    HeadDeadline(Duration deadline) {
        this.deadline = deadline;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx);
        ctx.fireChannelActive();
    }

    private void arm(ChannelHandlerContext ctx) {
        if (timer == null) {
            timer = ctx.executor().schedule(() -> {
                LOG.log(Level.INFO, "{0}: no complete request head within {1} ms; closing", ctx.channel().remoteAddress(),
                        deadline.toMillis());
                ctx.close();
            }, deadline.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            done(ctx);
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The connection has sent a request head: removes the deadline of {@code channel}'s connection
     * (its parent's, for an HTTP/2 stream). Call on the connection's event loop.
     */
    static void satisfied(io.netty.channel.Channel channel) {
        // an accepted connection's parent is the server channel: only a stream's parent is its connection
        io.netty.channel.Channel connection = channel instanceof io.netty.handler.codec.http2.Http2StreamChannel
                ? channel.parent() : channel;
        HeadDeadline d = connection.pipeline().get(HeadDeadline.class);
        if (d != null) {
            d.cancel();
            connection.pipeline().remove(d);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void done(ChannelHandlerContext ctx) {
        cancel();
        ctx.pipeline().remove(this);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
