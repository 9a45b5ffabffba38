package dev.ssekit.netty;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event loop's write batching: a fan-out to thousands of channels leaves the loop's I/O a turn
 * between slices, and a delivery group's next turn waits for the writes of its last.
 */
@Timeout(60)
class OutboxTest {

    /** More channels than one run writes, so that a fan-out takes more than one slice. */
    private static final int CHANNELS = 1500;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();

    @AfterEach
    void tearDown() throws Exception {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aRequestIsReadBetweenTwoSlicesOfAFanOutNotAfterAllOfIt() throws Exception {
        // a connection served by the same loop, reading only when told: its bytes are waiting in the kernel
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        CompletableFuture<Integer> writesBeforeRead = new CompletableFuture<>();
        AtomicInteger pulled = new AtomicInteger();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                accepted.complete(ctx.channel());
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                                writesBeforeRead.complete(pulled.get());
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        try (Socket client = new Socket()) {
            client.connect((InetSocketAddress) server.localAddress(), 5_000);
            Channel request = accepted.get(10, TimeUnit.SECONDS);
            OutputStream out = client.getOutputStream();
            out.write("GET / HTTP/1.1\r\n\r\n".getBytes(US_ASCII));
            out.flush(); // on loopback the bytes are in the server socket's buffer once this returns

            Outbox outbox = Outbox.of(loop);
            List<EmbeddedChannel> subscribers = subscribers();
            loop.execute(() -> {
                fanOut(outbox, subscribers, pulled);
                request.read(); // the loop reads it on its next I/O pass
            });

            int before = writesBeforeRead.get(10, TimeUnit.SECONDS);
            assertThat(before).as("channels written when the request was read").isGreaterThan(0).isLessThan(CHANNELS);
            loop.submit(() -> subscribers.forEach(EmbeddedChannel::finishAndReleaseAll)).get(10, TimeUnit.SECONDS);
        } finally {
            server.close().sync();
        }
    }

    @Test
    void aDeliveryTurnRunsOnceTheWritesQueuedBeforeItAreAllTaken() throws Exception {
        List<EmbeddedChannel> subscribers = subscribers();
        assertThat(writesTakenWhenTheTurnBehindRuns(subscribers, false)).isEqualTo(CHANNELS);
        for (EmbeddedChannel c : subscribers) {
            ByteBuf written = ((io.netty.handler.codec.http.HttpContent) c.readOutbound()).content();
            assertThat(written.toString(US_ASCII)).isEqualTo("data: x\n\n");
            written.release();
        }
        subscribers.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Test
    void aFanOutAndTheTurnBehindItFinishWhenTheLoopIsStoppedMeanwhile() throws Exception {
        List<EmbeddedChannel> subscribers = subscribers();
        // the delivery group behind the turn must run (or be refused): a lost turn would leave it waiting forever
        assertThat(writesTakenWhenTheTurnBehindRuns(subscribers, true)).isEqualTo(CHANNELS);
        subscribers.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Test
    void aTurnWithNoWritesBeforeItRunsAtOnceAndTurnsKeepTheirOrder() throws Exception {
        Outbox outbox = Outbox.of(loop);
        StringBuilder order = new StringBuilder();
        CompletableFuture<String> done = new CompletableFuture<>();
        outbox.execute(() -> order.append('a'));
        outbox.execute(() -> order.append('b'));
        outbox.execute(() -> done.complete(order.append('c').toString()));
        assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo("abc");
    }

    /**
     * On the loop: queues one write per subscriber, then a delivery turn behind them, then (if asked)
     * stops the loop, which cancels its scheduled tasks; returns how many writes were taken when the
     * turn ran.
     */
    private int writesTakenWhenTheTurnBehindRuns(List<EmbeddedChannel> subscribers, boolean thenStopTheLoop) throws Exception {
        Outbox outbox = Outbox.of(loop);
        AtomicInteger pulled = new AtomicInteger();
        CompletableFuture<Integer> pulledAtTurn = new CompletableFuture<>();
        loop.execute(() -> {
            fanOut(outbox, subscribers, pulled);
            outbox.execute(() -> pulledAtTurn.complete(pulled.get()));
            if (thenStopTheLoop) {
                group.shutdownGracefully(0, 5, TimeUnit.SECONDS);
            }
        });
        return pulledAtTurn.get(10, TimeUnit.SECONDS);
    }

    /** Queues one event's write for each subscriber; {@code pulled} counts the writes the outbox took. */
    private static void fanOut(Outbox outbox, List<EmbeddedChannel> subscribers, AtomicInteger pulled) {
        for (EmbeddedChannel c : subscribers) {
            outbox.write(c, () -> {
                pulled.incrementAndGet();
                return List.of("data: x\n\n".getBytes(US_ASCII));
            }, failure -> { });
        }
    }

    private static List<EmbeddedChannel> subscribers() {
        List<EmbeddedChannel> channels = new java.util.ArrayList<>();
        for (int i = 0; i < CHANNELS; i++) {
            channels.add(new EmbeddedChannel());
        }
        return channels;
    }
}
