/**
 * ssekit on Netty 4.2: {@link dev.ssekit.netty.NettySseServer}, a small SSE server speaking
 * HTTP/1.1 and h2c, or HTTPS with HTTP/2 by ALPN, and {@link dev.ssekit.netty.SseRoutingHandler} for existing pipelines.
 */
module dev.ssekit.netty {
    requires transitive dev.ssekit;
    requires transitive io.netty.codec.http;
    requires io.netty.codec.http2;
    requires transitive io.netty.handler; // SslContext, in NettySseServer's API
    requires transitive io.netty.transport;
    requires io.netty.transport.classes.epoll;
    requires io.netty.buffer;
    requires io.netty.common;
    requires io.netty.codec;

    exports dev.ssekit.netty;
}
