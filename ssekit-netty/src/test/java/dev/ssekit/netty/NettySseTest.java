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

    /** Answers every request with 200 and "fallback METHOD URI BODY". */
    private static final class Echo extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            byte[] body = ("fallback " + req.method() + " " + req.uri() + " " + req.content().toString(java.nio.charset.StandardCharsets.UTF_8))
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            var r = new io.netty.handler.codec.http.DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                    io.netty.handler.codec.http.HttpResponseStatus.OK, io.netty.buffer.Unpooled.wrappedBuffer(body));
            r.headers().setInt("Content-Length", body.length);
            ctx.writeAndFlush(r);
        }
    }

    @Test
    void requestsNoRouteTakesGoToTheFallbackOnHttp1AndH2c() throws Exception {
        try (NettySseServer server = NettySseServer.builder()
                .route("/events", (request, conn) -> conn.send(SseMessage.of("routed")))
                .fallback(() -> java.util.List.of(new HttpObjectAggregator(1024), new Echo()))
                .start();
                var http1 = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
                var h2c = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build()) {
            String base = "http://127.0.0.1:" + server.address().getPort();
            try (RawHttp c = RawHttp.get(server.address(), "/events", "HTTP/1.1")) {
                assertThat(c.readEvent()).isEqualTo("data: routed\n\n");
            }
            var post = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/publish?x=1"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("a=b")).build();
            var r1 = http1.send(post, java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r1.body()).isEqualTo("fallback POST /publish?x=1 a=b");
            // the first GET upgrades to h2c; the POST then goes as a stream on that connection
            var r2 = h2c.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/other")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r2.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
            assertThat(r2.body()).isEqualTo("fallback GET /other ");
            var r3 = h2c.send(post, java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(r3.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
            assertThat(r3.body()).isEqualTo("fallback POST /publish?x=1 a=b");
        }
    }

    @Test
    void aServerNeedsARouteOrAFallback() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> NettySseServer.builder().start())
                .withMessageContaining("routes must not be empty");
    }

    @Test
    void theRequestHeadDeadlineCutsSlowHeadsOffButNeverAStreamOrAPromptClient() throws Exception {
        for (boolean h2c : new boolean[] {true, false}) {
            java.util.concurrent.CountDownLatch streaming = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<SseConnection> stream = new java.util.concurrent.atomic.AtomicReference<>();
            try (NettySseServer server = NettySseServer.builder().http2(h2c).requestHeadTimeout(java.time.Duration.ofMillis(300))
                    .route("/events", (request, conn) -> {
                        stream.set(conn);
                        streaming.countDown();
                    }).start()) {
                try (RawHttp c = RawHttp.get(server.address(), "/events", "HTTP/1.1");
                        java.net.Socket slow = new java.net.Socket("127.0.0.1", server.address().getPort())) {
                    assertThat(streaming.await(10, TimeUnit.SECONDS)).isTrue();
                    slow.getOutputStream().write("GET /events HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    slow.setSoTimeout(10_000);
                    // the slow head is cut off after 300 ms: the read ends (-1) or the connection is reset
                    int got;
                    try {
                        got = slow.getInputStream().read();
                    } catch (java.net.SocketException reset) {
                        got = -1;
                    }
                    assertThat(got).as("h2c %s: the slow connection was closed", h2c).isEqualTo(-1);
                    // the stream that sent its head in time is still served, well past the deadline
                    stream.get().send(SseMessage.of("still here"));
                    assertThat(c.readEvent()).isEqualTo("data: still here\n\n");
                }
            }
        }
    }

    @Test
    void anOversizedHeaderIs431AndNeverReachesTheHandler() throws Exception {
        java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
        try (NettySseServer server = NettySseServer.builder().route("/events", (request, conn) -> handled.incrementAndGet()).start();
                RawHttp c = RawHttp.get(server.address(), "/events", "HTTP/1.1", "X-Big: " + "a".repeat(20_000))) {
            assertThat(c.statusLine).isEqualTo("HTTP/1.1 431 Request Header Fields Too Large");
            assertThat(c.readToEnd()).isEmpty();
            assertThat(handled).hasValue(0);
        }
    }
}
