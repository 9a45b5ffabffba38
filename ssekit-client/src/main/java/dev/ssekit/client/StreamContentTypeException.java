package dev.ssekit.client;

import java.net.http.HttpHeaders;
import java.util.Optional;

/** The server answered 200 with a content type other than {@code text/event-stream}; fatal. */
public final class StreamContentTypeException extends StreamException {

    private static final long serialVersionUID = 1L;

    /** The response status. */
    private final int status;
    /** The start of the response body as text, or null when it had none. */
    private final String body;
    /** The response headers (not serialized). */
    private final transient HttpHeaders headers;
    /** The content type the server sent. */
    private final String contentType;

    StreamContentTypeException(int status, HttpHeaders headers, String contentType, Optional<String> body) {
        super("expected Content-Type text/event-stream, got " + (contentType.isEmpty() ? "none" : '"' + contentType + '"'),
                null);
        this.body = body.orElse(null);
        this.status = status;
        this.headers = headers;
        this.contentType = contentType;
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
     * The content type the server sent.
     *
     * @return the header's value, empty when it sent none
     */
    public String contentType() {
        return contentType;
    }

    @Override
    public boolean isRetryable() {
        return false;
    }
}
