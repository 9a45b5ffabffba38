package dev.ssekit.netty;

import dev.ssekit.SseConnection;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Serves one SSE request on Netty. It runs on a virtual thread, never on an event loop, so it may
 * block (loop and {@code send}, or hand the connection to a {@link dev.ssekit.Broadcaster} and
 * return). The connection stays open after it returns, until closed.
 */
@FunctionalInterface
public interface SseHandler {

    /**
     * Handles one stream.
     *
     * @param request the request head (method, URI, headers); no body
     * @param connection the open connection; its response head is already sent
     * @throws Exception anything; it is logged and the connection is closed
     */
    void handle(HttpRequest request, SseConnection connection) throws Exception;
}
