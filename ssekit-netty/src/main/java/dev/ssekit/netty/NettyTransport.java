package dev.ssekit.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.spi.SseTransport;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;

/**
 * {@link SseTransport} over a Netty channel (an HTTP/1.1 connection or an HTTP/2 stream). Writes
 * wrap the caller's bytes without copying (a broadcast frame's one array is shared by every
 * subscriber) and wait, on the caller's virtual thread, until the socket took them; a write from
 * an event loop is refused. The channel's close (a FIN from the client, a reset stream) is reported
 * to core on a virtual thread.
 */
final class NettyTransport implements SseTransport {

    private final Channel channel;
    private final Optional<String> lastEventId;

    NettyTransport(Channel channel, HttpHeaders requestHeaders) {
        this.channel = channel;
        String raw = requestHeaders.get("Last-Event-ID");
        // Netty hands header bytes over as ISO-8859-1 characters; the id is UTF-8 (WHATWG 9.2.4)
        this.lastEventId = raw == null || raw.isEmpty() ? Optional.empty()
                : Optional.of(new String(raw.getBytes(ISO_8859_1), UTF_8));
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("SseConnection writes block until the bytes are on the socket; "
                    + "call them off the Netty event loop (ssekit runs SseHandlers on virtual threads)");
        }
        if (!channel.isActive()) {
            throw new IOException("SSE channel is closed");
        }
        ChannelFuture f = channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes)));
        try {
            f.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing an SSE event");
        }
        if (!f.isSuccess()) {
            throw new IOException("SSE write failed: " + f.cause(), f.cause());
        }
    }

    @Override
    public void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
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
