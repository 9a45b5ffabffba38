package dev.ssekit.netty;

import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.Objects;

/**
 * Starts an event stream on a Netty channel from a handler of your own pipeline (after an HTTP
 * codec): the lower-level form of {@link SseRoutingHandler}, for servers that answer other
 * requests too or need extra response headers.
 */
public final class NettySse {

    private NettySse() {
    }

    /**
     * Sends the response head and returns the connection: {@code 200}, {@code text/event-stream;
     * charset=utf-8}, {@code Cache-Control: no-cache}, {@code X-Accel-Buffering: no}, then {@code
     * extraHeaders} (which may override those); chunked and keep-alive on HTTP/1.1; on HTTP/1.0 a
     * close-delimited body ({@code HTTP/1.0 200}, {@code Connection: close}, no chunked encoding:
     * RFC 9112 §6.1), the connection closed when the stream ends. Call it on the
     * event loop (from {@code channelRead}) or any thread; use the connection from threads that may
     * block (its {@code send} refuses to run on an event loop). On an HTTP/1.1 connection of a
     * {@link NettySseServer} (from a fallback handler) the connection's HTTP handlers then leave its
     * pipeline for a shared stream handler (see {@link NettySseServer.Builder#fallback}); pipelines
     * of your own and HTTP/2 streams are left as they are.
     *
     * @param channel the request's channel (an HTTP/1.1 connection or an HTTP/2 stream)
     * @param request the request head; its {@code Last-Event-ID} is read (UTF-8)
     * @param extraHeaders more response headers, or {@link EmptyHttpHeaders#INSTANCE}
     * @return the open connection
     * @throws NullPointerException if an argument is null
     */
    public static SseConnection start(Channel channel, HttpRequest request, HttpHeaders extraHeaders) {
        return start(channel, request, extraHeaders, SseOptions.defaults());
    }

    /**
     * {@link #start(Channel, HttpRequest, HttpHeaders)} with settings of its own: the write timeout
     * of {@code send} and {@code comment}, and the close grace after which a close that cannot
     * write its last event closes the channel (an HTTP/2 stream is reset).
     *
     * @param channel the request's channel (an HTTP/1.1 connection or an HTTP/2 stream)
     * @param request the request head; its {@code Last-Event-ID} is read (UTF-8)
     * @param extraHeaders more response headers, or {@link EmptyHttpHeaders#INSTANCE}
     * @param options the connection's settings
     * @return the open connection
     * @throws NullPointerException if an argument is null
     */
    public static SseConnection start(Channel channel, HttpRequest request, HttpHeaders extraHeaders, SseOptions options) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(extraHeaders, "extraHeaders");
        Objects.requireNonNull(options, "options");
        boolean http2 = channel instanceof Http2StreamChannel;
        boolean http10 = !http2 && HttpVersion.HTTP_1_0.equals(request.protocolVersion());
        HttpResponse response = new DefaultHttpResponse(http10 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no");
        if (http10) {
            // RFC 9112 §6.1: no chunked encoding for a 1.0 client; the body ends when the connection closes
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!http2) {
            HttpUtil.setTransferEncodingChunked(response, true);
            if (HttpUtil.isKeepAlive(request)) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        }
        response.headers().setAll(extraHeaders); // replaces same-named headers only (set() would clear the rest)
        channel.writeAndFlush(response);
        SseConnection connection = Sse.open(new NettyTransport(channel, request.headers(), options.closeGrace()), options);
        if (!http10) {
            StreamPipeline.enter(channel); // on a NettySseServer connection: only what a stream needs stays
        } // HTTP/1.0: the codec stays and passes the body through unframed (StreamPipeline frames chunks)
        return connection;
    }
}
