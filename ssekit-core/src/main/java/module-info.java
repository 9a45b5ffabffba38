/**
 * ssekit core: the server side. The SSE message model, the connection state machine, the
 * broadcaster, and the adapter for the JDK's built-in HTTP server ({@code com.sun.net.httpserver}).
 * Messages are written with the one codec shared by every part of ssekit, {@code dev.ssekit.codec}
 * (module {@code dev.ssekit.codec}, required transitively, so server code sees the parser and the
 * time seams too).
 *
 * <p>Packages: {@code dev.ssekit} is the API; {@code dev.ssekit.spi} is what transport adapters
 * (Servlet, Netty) implement.
 */
module dev.ssekit {
    requires transitive dev.ssekit.codec;
    requires transitive jdk.httpserver;

    exports dev.ssekit;
    exports dev.ssekit.spi;
}
