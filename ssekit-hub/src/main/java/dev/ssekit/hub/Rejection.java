package dev.ssekit.hub;

/**
 * A request the hub refuses: the HTTP status and a one-line reason, shown to the client and logged
 * once. Carries no stack trace (it is an answer, not a fault).
 */
final class Rejection extends Exception {
    private static final long serialVersionUID = 1L;

    /** The HTTP status, 4xx, 503 (not done: retry later) or 504 (outcome unknown: retry with the same id). */
    final int status;
    /** For a 503, 504 or 429: the Retry-After the client gets, in seconds. */
    final int retryAfterSeconds;
    /**
     * The RFC 6750 error code of a refusal answered with a {@code WWW-Authenticate: Bearer} challenge
     * ({@code invalid_token}, {@code insufficient_scope}, {@code invalid_request}), the empty string
     * for a bare challenge (no token at all, RFC 6750 section 3.1), or null for no challenge.
     */
    final String bearerError;

    Rejection(int status, String reason) {
        this(status, reason, 5);
    }

    Rejection(int status, String reason, int retryAfterSeconds) {
        this(status, reason, retryAfterSeconds, null);
    }

    private Rejection(int status, String reason, int retryAfterSeconds, String bearerError) {
        super(reason, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
        this.bearerError = bearerError;
    }

    /** 401 with a bare challenge: the request carried no token (RFC 6750 section 3.1). */
    static Rejection noToken(String reason) {
        return new Rejection(401, reason, 5, "");
    }

    /** 401 {@code invalid_token}: the token is malformed, expired, badly signed, not for this hub. */
    static Rejection invalidToken(String reason) {
        return new Rejection(401, reason, 5, "invalid_token");
    }

    /** 403 {@code insufficient_scope}: a valid token that does not grant this. */
    static Rejection insufficientScope(String reason) {
        return new Rejection(403, reason, 5, "insufficient_scope");
    }

    /** 400 {@code invalid_request}: the token was presented wrongly (a malformed Authorization header, a query token). */
    static Rejection invalidRequest(String reason) {
        return new Rejection(400, reason, 5, "invalid_request");
    }

    /**
     * The {@code WWW-Authenticate} value for this refusal, or null when it carries no challenge:
     * {@code Bearer}, then {@code error="…"} unless bare, then {@code resource_metadata="…"}
     * (RFC 9728 section 5.1) when a metadata URL is given. The reason is not echoed (it may hold
     * client input); it goes to the body.
     *
     * @param resourceMetadata the protected resource metadata document's URL, or null
     */
    String challenge(String resourceMetadata) {
        if (bearerError == null) {
            return null;
        }
        StringBuilder b = new StringBuilder("Bearer");
        String sep = " ";
        if (!bearerError.isEmpty()) {
            b.append(sep).append("error=\"").append(bearerError).append('"');
            sep = ", ";
        }
        if (resourceMetadata != null) {
            b.append(sep).append("resource_metadata=\"").append(resourceMetadata.replace("\\", "\\\\").replace("\"", "\\\""))
                    .append('"');
        }
        return b.toString();
    }

    /** What a failed stage failed with: the cause a {@code CompletionException} wraps, or the error itself. */
    static Throwable cause(Throwable error) {
        return error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
