package dev.ssekit.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.RawHttp;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** NettySse.start in a pipeline of one's own (with an aggregator, as a hub has), with extra headers. */
@Timeout(60)
class NettySseTest {

    @Test
    void startsAStreamFromAnOwnHandlerWithExtraHeaders() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                            SseConnection conn = NettySse.start(ctx.channel(), req, new DefaultHttpHeaders()
                                                    .set("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0")
                                                    .set("Last-Event-ID", "earliest"));
                                            Thread.ofVirtual().start(() -> {
                                                try {
                                                    conn.comment("");
                                                    conn.send(SseMessage.builder().id("1").data("hi " + conn.lastEventId().orElse("-")).build());
                                                    conn.close();
                                                } catch (java.io.IOException e) {
                                                    throw new java.io.UncheckedIOException(e);
                                                }
                                            });
                                        }
                                    });
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            try (RawHttp c = RawHttp.get((InetSocketAddress) server.localAddress(), "/x", "HTTP/1.1", "Last-Event-ID: é")) {
                assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
                assertThat(c.headers).containsEntry("cache-control", "private, no-cache, no-store, must-revalidate, max-age=0")
                        .containsEntry("last-event-id", "earliest")
                        .containsEntry("content-type", "text/event-stream; charset=utf-8");
                assertThat(c.readToEnd()).isEqualTo(":\nid: 1\ndata: hi é\n\nevent: close\ndata: Closing the connection\n\n");
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
