package dev.ssekit.hub;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * One line per request on the {@code dev.ssekit.hub.access} logger (INFO), written when the
 * response is complete: for a stream, when it ends, with its duration and why it ended. Tokens in
 * the {@code authorization} query parameter are replaced by {@code REDACTED}, whatever spelling of its
 * name decodes to it (see {@link #redact}). Thread-safe.
 *
 * <p>Line: {@code REMOTE "METHOD URI PROTOCOL" STATUS BYTES MILLISms [stream end: REASON]}.
 */
final class AccessLog {

    static final String LOGGER = "dev.ssekit.hub.access";
    private static final System.Logger LOG = System.getLogger(LOGGER);
    private static final String PARAMETER = "authorization";

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

    /**
     * The URI with every query field whose name, percent-decoded (leniently: a bad escape stays as it
     * is, {@code +} is a space) and in any case, holds {@code authorization} written as {@code
     * authorization=REDACTED}: the hub honours {@code %61uthorization=} as the parameter, and a field
     * whose escapes do not decode may still carry a token. Linear in the URI's length.
     */
    static String redact(String uri) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return uri;
        }
        StringBuilder b = new StringBuilder(uri.length()).append(uri, 0, q + 1);
        int start = q + 1;
        while (start <= uri.length()) {
            int end = uri.indexOf('&', start);
            if (end < 0) {
                end = uri.length();
            }
            int eq = uri.indexOf('=', start);
            String name = uri.substring(start, eq < 0 || eq > end ? end : eq);
            if (lenientlyDecoded(name).toLowerCase(java.util.Locale.ROOT).contains(PARAMETER)) {
                b.append(PARAMETER).append("=REDACTED");
            } else {
                b.append(uri, start, end);
            }
            if (end < uri.length()) {
                b.append('&');
            }
            start = end + 1;
        }
        return b.toString();
    }

    /** Percent-decodes {@code s} byte by byte (ISO-8859-1), keeping bad escapes as they are. */
    private static String lenientlyDecoded(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int hi = c == '%' && i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
            int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
            if (lo >= 0) {
                b.append((char) (hi << 4 | lo));
                i += 2;
            } else {
                b.append(c == '+' ? ' ' : c);
            }
        }
        return b.toString();
    }

    /** The client's address and port: {@code 127.0.0.1:5000}. */
    static String remote(Channel channel) {
        // on an HTTP/2 stream the address is the parent connection's
        Channel c = channel.parent() != null && channel.remoteAddress() == null ? channel.parent() : channel;
        SocketAddress a = c.remoteAddress();
        return a instanceof InetSocketAddress i ? i.getAddress().getHostAddress() + ":" + i.getPort() : String.valueOf(a);
    }
}
