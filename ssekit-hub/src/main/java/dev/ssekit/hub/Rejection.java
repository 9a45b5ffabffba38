package dev.ssekit.hub;

/**
 * A request the hub refuses: the HTTP status and a one-line reason, shown to the client and logged
 * once. Carries no stack trace (it is an answer, not a fault).
 */
final class Rejection extends Exception {
    private static final long serialVersionUID = 1L;

    /** The HTTP status, 4xx, 503 (not done: retry later) or 504 (outcome unknown: retry with the same id). */
    final int status;
    /** For a 503 or 504: the Retry-After the client gets, in seconds. */
    final int retryAfterSeconds;

    Rejection(int status, String reason) {
        this(status, reason, 5);
    }

    Rejection(int status, String reason, int retryAfterSeconds) {
        super(reason, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** What a failed stage failed with: the cause a {@code CompletionException} wraps, or the error itself. */
    static Throwable cause(Throwable error) {
        return error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
