package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.netty.NettySseServer;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} on a listener of its own ({@code --metrics-listen}), off the public port
 * (issue #28: the counters, heap, threads and descriptors help tune an attack): HTTP/1.1, every other
 * request 404. Answers on the event loop: the text is made of counters, nothing blocks.
 */
final class MetricsListener {

    private MetricsListener() {
    }

    /**
     * Binds and starts the listener.
     *
     * @param address where to listen
     * @param metrics makes the {@code /metrics} text, on an event loop (must not block)
     * @return the running listener; closing it stops it
     * @throws IllegalStateException if the address cannot be bound
     */
    static NettySseServer start(InetSocketAddress address, Supplier<String> metrics) {
        return NettySseServer.builder().address(address).http2(false).eventLoops(1)
                .fallback(() -> List.<ChannelHandler>of(new HttpObjectAggregator(1024), new Handler(metrics))).start();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Supplier<String> metrics;

        Handler(Supplier<String> metrics) {
            this.metrics = metrics;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean found = req.method().name().equals("GET") && new QueryStringDecoder(req.uri()).rawPath().equals("/metrics");
            byte[] body = (found ? metrics.get() : "not found\n").getBytes(UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    found ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND, Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(r, keepAlive);
            var f = ctx.writeAndFlush(r);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a malformed request: nothing to log about a metrics scraper
        }
    }
}
