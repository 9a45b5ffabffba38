package dev.ssekit.netty;

import dev.ssekit.spi.LastEventIds;
import dev.ssekit.spi.SseTransport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * {@link SseTransport} over a Netty channel (an HTTP/1.1 connection or an HTTP/2 stream). Writes
 * go through the channel's event loop {@link Outbox}: one task and one flush round per loop for
 * all pending writes, each frame copied once per loop into a direct buffer that every subscriber
 * on the loop writes (one gathering write per subscriber). A broadcaster delivers to this
 * connection on its event loop ({@link #deliveryExecutor()}). The broadcaster uses the asynchronous write (no thread per
 * subscriber); {@code send} waits, on the caller's virtual thread, until the socket took the bytes,
 * and is refused on an event loop. The channel's close (a FIN from the client, a reset stream) is reported
 * to core on a virtual thread.
 */
final class NettyTransport implements SseTransport {

    private final Channel channel;
    private final Optional<String> lastEventId;
    private final long closeGraceNanos;

    NettyTransport(Channel channel, HttpHeaders requestHeaders, Duration closeGrace) {
        this.channel = channel;
        this.lastEventId = LastEventIds.fromHeader(requestHeaders.get("Last-Event-ID"));
        long nanos;
        try {
            nanos = closeGrace.toNanos();
        } catch (ArithmeticException tooLong) { // SseOptions accepts any length: past about 292 years, "never"
            nanos = Long.MAX_VALUE;
        }
        this.closeGraceNanos = nanos;
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("SseConnection writes block until the bytes are on the socket; "
                    + "call them off the Netty event loop (ssekit runs SseHandlers on virtual threads)");
        }
        CompletableFuture<IOException> result = new CompletableFuture<>();
        writeAsync(() -> List.of(bytes), result::complete);
        IOException failure;
        try {
            failure = result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing an SSE event");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public boolean supportsAsyncWrite() {
        return true;
    }

    @Override
    public void writeAsync(Supplier<List<byte[]>> source, Consumer<IOException> done) {
        if (!channel.isActive()) {
            done.accept(new IOException("SSE channel is closed"));
            return;
        }
        Outbox.of(channel.eventLoop()).write(channel, source, done);
    }

    @Override
    public Executor deliveryExecutor() {
        return Outbox.of(channel.eventLoop()); // a group's turns run on the loop, each after the writes of the last
    }

    /**
     * The graceful end: the last chunk (nothing on an HTTP/1.0 close-delimited body), then the channel is
     * closed. The end queues behind any write still in flight, so if it is not written within the
     * close grace (a client that stopped reading) the channel is closed at once, which fails the
     * writes still queued. Off the event loop this waits for the end (core bounds it too).
     */
    @Override
    public void close() {
        if (!channel.isActive()) {
            channel.close();
            return;
        }
        ChannelFuture end = channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                .addListener(ChannelFutureListener.CLOSE);
        if (!end.isDone()) {
            ScheduledFuture<?> abort = channel.eventLoop().schedule(() -> {
                channel.close();
            }, closeGraceNanos, TimeUnit.NANOSECONDS);
            end.addListener(f -> abort.cancel(false));
            if (!channel.eventLoop().inEventLoop()) {
                end.awaitUninterruptibly();
            }
        }
    }

    @Override
    public void abort() {
        channel.close(); // fails the pending writes at once; the peer gets a reset or an end
    }

    @Override
    public void onPeerClosed(Runnable action) {
        channel.closeFuture().addListener(f -> Thread.ofVirtual().name("ssekit-netty-closed").start(action));
    }

    @Override
    public Optional<String> lastEventId() {
        return lastEventId;
    }
}
