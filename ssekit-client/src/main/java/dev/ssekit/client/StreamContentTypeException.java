package dev.ssekit.client;

import java.net.http.HttpHeaders;

/** The server answered 200 with a content type other than {@code text/event-stream}; fatal. */
public final class StreamContentTypeException extends StreamException {

    private static final long serialVersionUID = 1L;

    /** The response status. */
    private final int status;
    /** The response headers (not serialized). */
    private final transient HttpHeaders headers;
    /** The content type the server sent. */
    private final String contentType;

    StreamContentTypeException(int status, HttpHeaders headers, String contentType) {
        super("expected Content-Type text/event-stream, got " + (contentType.isEmpty() ? "none" : '"' + contentType + '"'),
                null);
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
