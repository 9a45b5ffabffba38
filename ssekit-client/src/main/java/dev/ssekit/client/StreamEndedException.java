package dev.ssekit.client;

/** The server ended the stream normally. As browsers do, the {@link EventSource} reconnects. */
public final class StreamEndedException extends StreamException {

    private static final long serialVersionUID = 1L;

    StreamEndedException() {
        super("the server ended the event stream", null);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
