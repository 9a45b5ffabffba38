package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A complete answer of the hub: status, headers (in order; the server adds {@code Content-Length}
 * and connection handling) and body.
 *
 * @param status the HTTP status
 * @param headers header values by name
 * @param body the body bytes
 */
record HubResponse(int status, Map<String, String> headers, byte[] body) {

    HubResponse {
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
    }

    /** A {@code text/plain} answer (no content type for 204). */
    static HubResponse text(int status, String body) {
        Map<String, String> h = new LinkedHashMap<>();
        if (status != 204) {
            h.put("Content-Type", "text/plain; charset=utf-8");
        }
        return new HubResponse(status, h, body.getBytes(UTF_8));
    }

    /** This answer with another content type. */
    HubResponse as(String contentType) {
        headers.put("Content-Type", contentType);
        return this;
    }

    String bodyText() {
        return new String(body, UTF_8);
    }
}
