package dev.ssekit.hub;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.regex.Pattern;

/**
 * One line per request on the {@code dev.ssekit.hub.access} logger (INFO), written when the
 * response is complete: for a stream, when it ends, with its duration and why it ended. Tokens in
 * the {@code authorization} query parameter are replaced by {@code REDACTED}. Thread-safe.
 *
 * <p>Line: {@code REMOTE "METHOD URI PROTOCOL" STATUS BYTES MILLISms [stream end: REASON]}.
 */
final class AccessLog {

    static final String LOGGER = "dev.ssekit.hub.access";
    private static final System.Logger LOG = System.getLogger(LOGGER);
    private static final Pattern TOKEN = Pattern.compile("(?i)([?&]authorization=)[^&]*");

    private AccessLog() {
    }

    /**
     * A request answered with a complete response of {@code bytes} body bytes; {@code remote} is
     * what {@link #remote} made of its channel.
     */
    static void response(String remote, HttpRequest req, int status, long bytes, long startNanos) {
        if (LOG.isLoggable(Level.INFO)) {
            LOG.log(Level.INFO, line(remote, request(req), status, Long.toString(bytes), startNanos, ""));
        }
    }

    /**
     * A stream that has ended, for {@code reason}; {@code remote} and {@code request} are what {@link
     * #remote} and {@link #request} made of its channel and request when it started (a stream keeps
     * those lines, not the request, for its whole life).
     */
    static void stream(String remote, String request, long startNanos, String reason) {
        if (LOG.isLoggable(Level.INFO)) {
            LOG.log(Level.INFO, line(remote, request, 200, "-", startNanos, " stream end: " + reason));
        }
    }

    /** The request part of a line: {@code METHOD URI PROTOCOL}, tokens redacted. */
    static String request(HttpRequest req) {
        return req.method() + " " + redact(req.uri()) + " " + req.protocolVersion();
    }

    private static String line(String remote, String request, int status, String bytes, long startNanos, String tail) {
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        return remote + " \"" + request + "\" " + status + " " + bytes + " " + millis + "ms" + tail;
    }

    static String redact(String uri) {
        return uri.indexOf('?') < 0 ? uri : TOKEN.matcher(uri).replaceAll("$1REDACTED");
    }

    /** The client's address and port: {@code 127.0.0.1:5000}. */
    static String remote(Channel channel) {
        // on an HTTP/2 stream the address is the parent connection's
        Channel c = channel.parent() != null && channel.remoteAddress() == null ? channel.parent() : channel;
        SocketAddress a = c.remoteAddress();
        return a instanceof InetSocketAddress i ? i.getAddress().getHostAddress() + ":" + i.getPort() : String.valueOf(a);
    }
}
