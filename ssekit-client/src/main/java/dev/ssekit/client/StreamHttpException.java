package dev.ssekit.client;

import java.net.http.HttpHeaders;
import java.util.Optional;
import java.time.Duration;

/**
 * The server answered with a status other than 200. 500, 502, 503, 504 and 429 are retried (unless
 * the builder turned that off); every other status fails the {@link EventSource} for good, as a
 * browser does.
 */
public final class StreamHttpException extends StreamException {

    private static final long serialVersionUID = 1L;

    /** The response status. */
    private final int status;
    /** The start of the response body as text, or null when it had none. */
    private final String body;
    /** The response headers (not serialized). */
    private final transient HttpHeaders headers;
    /** Whether the source retries after it. */
    private final boolean retryable;
    /** The server's Retry-After, or null. */
    private final Duration retryAfter;

    StreamHttpException(int status, HttpHeaders headers, boolean retryable, Duration retryAfter, Optional<String> body) {
        super("HTTP " + status + " from the event stream" + (retryable ? " (will retry)" : ""), null);
        this.body = body.orElse(null);
        this.status = status;
        this.headers = headers;
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /**
     * The response status.
     *
     * @return the status code
     */
    public int status() {
        return status;
    }

    /**
     * The response body as text, for example the JSON error document of an API: at most the first
     * 64 KiB, decoded as UTF-8 (malformed bytes replaced). Read until the body ended, 64 KiB
     * arrived, or (for an {@link EventSource}) the read timeout passed.
     *
     * @return the body text; empty when the response had no body
     */
    public Optional<String> body() {
        return Optional.ofNullable(body);
    }

    /**
     * The response headers.
     *
     * @return the headers
     */
    public HttpHeaders headers() {
        return headers;
    }

    /**
     * The server's {@code Retry-After}, when it sent a valid one (seconds or an HTTP date).
     *
     * @return the delay it asked for
     */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    @Override
    public boolean isRetryable() {
        return retryable;
    }
}
