/**
 * ssekit core: the SSE message model, the one codec shared by every part of ssekit (encoder and
 * incremental WHATWG parser), the connection state machine, and the adapter for the JDK's built-in
 * HTTP server ({@code com.sun.net.httpserver}).
 *
 * <p>Packages: {@code dev.ssekit} is the API; {@code dev.ssekit.spi} is what transport adapters
 * (Servlet, Netty) implement.
 */
module dev.ssekit {
    requires transitive jdk.httpserver;

    exports dev.ssekit;
    exports dev.ssekit.spi;
}
