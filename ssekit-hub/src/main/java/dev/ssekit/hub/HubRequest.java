package dev.ssekit.hub;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One HTTP request as the Mercure protocol sees it, whatever server read it.
 *
 * @param method the method, upper case
 * @param path the percent-decoded path
 * @param rawPath the path as sent
 * @param rawQuery the query as sent, without {@code ?} (empty when none)
 * @param headers header values by lower-case name (repeated headers joined by {@code ", "},
 *     cookies by {@code "; "})
 * @param body the body (empty for none)
 * @param remote the peer's IP address (a proxy's, when one forwards the request), or "" when unknown
 */
record HubRequest(String method, String path, String rawPath, String rawQuery, Map<String, String> headers, byte[] body,
        String remote) {

    /** A request from an unknown peer (no per-client limit applies to it). */
    HubRequest(String method, String path, String rawPath, String rawQuery, Map<String, String> headers, byte[] body) {
        this(method, path, rawPath, rawQuery, headers, body, "");
    }

    /** This request, from that peer. */
    HubRequest from(String peer) {
        return new HubRequest(method, path, rawPath, rawQuery, headers, body, peer);
    }

    HubRequest {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(rawPath, "rawPath");
        Objects.requireNonNull(rawQuery, "rawQuery");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }

    /** A header's value, or null when absent. */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }
}
