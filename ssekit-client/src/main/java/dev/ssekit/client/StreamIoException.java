package dev.ssekit.client;

/** The network failed: refused, reset, timed out before the response head. Retried. */
public final class StreamIoException extends StreamException {

    private static final long serialVersionUID = 1L;

    StreamIoException(Throwable cause) {
        super(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(), cause);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
