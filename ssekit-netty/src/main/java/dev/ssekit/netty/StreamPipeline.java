package dev.ssekit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What an HTTP/1.1 connection of a {@link NettySseServer} keeps once it carries an event stream:
 * the response never ends while the connection is open and no other request is ever answered on
 * it, so the HTTP codec (its decoder's buffers and parsers), the h2c upgrade handler, the routing
 * and fallback handlers leave the pipeline (each per channel, together about 1 KB of heap per idle
 * connection) and this one shared handler takes their place: it frames the stream's {@link
 * HttpContent}s as chunks, as the codec's encoder did after the head, and drops whatever the
 * client still sends (the connection is read only to notice its end). TLS stays. Pipelines built
 * elsewhere (a {@link NettySse} user's own) and HTTP/2 streams are left as they are.
 */
@ChannelHandler.Sharable
final class StreamPipeline extends ChannelDuplexHandler {

    private static final System.Logger LOG = System.getLogger(StreamPipeline.class.getName());
    private static final StreamPipeline INSTANCE = new StreamPipeline();
    /** The handler's name in a stream's pipeline: a channel that has it takes pre-framed chunks. */
    static final String NAME = "ssekit-stream";
    private static final ByteBuf CRLF = constant("\r\n");
    private static final ByteBuf LAST_CHUNK = constant("0\r\n\r\n");
    private static final ByteBuf CRLF_LAST_CHUNK = constant("\r\n0\r\n\r\n");

    private StreamPipeline() {
    }

    private static ByteBuf constant(String ascii) {
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(ascii.getBytes(StandardCharsets.US_ASCII))).asReadOnly();
    }

    /**
     * Called once the stream's response head has been written (it has then gone through the codec):
     * on a connection set up by {@link NettySseServer} (it holds a {@link MalformedRequests}), the
     * HTTP handlers make way for the shared stream handler. Runs on the channel's event loop (is
     * scheduled there, after the head's write, when called elsewhere).
     */
    static void enter(Channel channel) {
        if (channel instanceof Http2StreamChannel) {
            return;
        }
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> enter(channel));
            return;
        }
        ChannelPipeline p = channel.pipeline();
        if (!channel.isActive() || p.get(MalformedRequests.class) == null) {
            return;
        }
        List<String> leaving = new ArrayList<>();
        for (Map.Entry<String, ChannelHandler> e : p) {
            if (!(e.getValue() instanceof SslHandler)) {
                leaving.add(e.getKey());
            }
        }
        p.addLast(NAME, INSTANCE); // before the others leave: bytes a leaving decoder still holds come here
        for (String name : leaving) {
            if (p.context(name) != null) {
                p.remove(name);
            }
        }
    }

    /** Whether the channel's stream is framed here (a plain ByteBuf written to it must then be a whole chunk). */
    static boolean frames(Channel channel) {
        return channel.pipeline().context(NAME) != null;
    }

    /**
     * The bytes as one HTTP/1.1 chunk (size in hex, CRLF, the bytes, CRLF), in a direct buffer: a
     * broadcast batch framed once for every channel of a loop, instead of a head and a tail per
     * channel. Written as a plain {@link ByteBuf}, which {@link #write} passes through.
     */
    static ByteBuf chunk(io.netty.buffer.ByteBufAllocator alloc, List<byte[]> frames, int length) {
        String size = Integer.toHexString(length);
        ByteBuf b = alloc.directBuffer(size.length() + length + 4, size.length() + length + 4);
        ByteBufUtil.writeAscii(b, size);
        b.writeShort(0x0d0a);
        for (byte[] f : frames) {
            b.writeBytes(f);
        }
        b.writeShort(0x0d0a);
        return b;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // another request on a stream: never answered
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof HttpContent content)) {
            ctx.write(msg, promise);
            return;
        }
        ByteBuf data = content.content();
        int length = data.readableBytes();
        boolean last = content instanceof LastHttpContent;
        if (length == 0) {
            data.release();
            ctx.write(last ? LAST_CHUNK.duplicate() : Unpooled.EMPTY_BUFFER, promise);
            return;
        }
        // a chunk as HttpObjectEncoder frames it: size in hex, CRLF, the bytes (not copied), CRLF
        String size = Integer.toHexString(length);
        ByteBuf head = ctx.alloc().buffer(size.length() + 2);
        ByteBufUtil.writeAscii(head, size);
        head.writeShort(0x0d0a);
        ctx.write(head);
        ctx.write(data);
        ctx.write(last ? CRLF_LAST_CHUNK.duplicate() : CRLF.duplicate(), promise);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.DEBUG, "SSE stream error: {0}", cause.toString());
        ctx.close();
    }
}
