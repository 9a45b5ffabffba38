package dev.ssekit.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A NettySseServer HTTP/1.1 connection that carries an event stream keeps only the shared stream
 * handler (the memory of idle connections, issue #15): the codec, the h2c upgrade handler and the
 * fallback handlers leave (their {@code handlerRemoved} runs), the chunks on the wire are framed
 * as the codec framed them, and a request pipelined behind the stream is never answered.
 */
@Timeout(60)
class StreamPipelineTest {

    @Test
    void aStreamingConnectionKeepsOnlyTheStreamHandlerAndItsChunksAreFramedAsBefore() throws Exception {
        for (boolean h2c : new boolean[] {true, false}) {
            CompletableFuture<Channel> channel = new CompletableFuture<>();
            CompletableFuture<SseConnection> stream = new CompletableFuture<>();
            CountDownLatch removed = new CountDownLatch(1);
            try (NettySseServer server = NettySseServer.builder().http2(h2c)
                    .fallback(() -> List.of(new HttpObjectAggregator(1024), new SimpleChannelInboundHandler<FullHttpRequest>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                            stream.complete(NettySse.start(ctx.channel(), req, EmptyHttpHeaders.INSTANCE));
                            channel.complete(ctx.channel());
                        }

                        @Override
                        public void handlerRemoved(ChannelHandlerContext ctx) {
                            removed.countDown();
                        }
                    })).start();
                    Socket s = new Socket("127.0.0.1", server.address().getPort())) {
                s.setSoTimeout(10_000);
                // a second request pipelined behind the stream's: it must never be answered
                s.getOutputStream().write("GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /other HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                Channel ch = channel.get(10, TimeUnit.SECONDS);
                SseConnection conn = stream.get(10, TimeUnit.SECONDS);
                assertThat(removed.await(10, TimeUnit.SECONDS)).as("h2c %s: the fallback handler left", h2c).isTrue();
                List<String> names = ch.eventLoop().submit(() -> List.copyOf(ch.pipeline().toMap().keySet()))
                        .get(10, TimeUnit.SECONDS);
                assertThat(names).as("h2c %s", h2c).containsExactly("ssekit-stream");

                conn.send(SseMessage.of("é"));
                conn.comment("");
                conn.close();
                String all = new String(readAll(s.getInputStream()), StandardCharsets.UTF_8);
                assertThat(all).as("h2c %s", h2c).startsWith("HTTP/1.1 200 OK\r\n").contains("transfer-encoding: chunked\r\n");
                assertThat(all.substring(all.indexOf("\r\n\r\n") + 4)).as("h2c %s", h2c).isEqualTo(
                        chunk("data: é\n\n") + chunk(":\n") + chunk("event: close\ndata: Closing the connection\n\n") + "0\r\n\r\n");
            }
        }
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

    /** Everything until the server closes (the socket's timeout bounds each read). */
    private static byte[] readAll(InputStream in) throws java.io.IOException {
        return in.readAllBytes();
    }
}
