package dev.ssekit.mercure;

import java.io.IOException;
import java.util.Optional;

/**
 * The hub refused a request: its HTTP status and, for 400/401/403 answers with a {@code
 * WWW-Authenticate: Bearer} challenge, the RFC 6750 error ({@code invalid_request}, {@code
 * invalid_token}, {@code insufficient_scope}; none when no token was sent) and the challenge's
 * {@code resource_metadata} (draft-dunglas-mercure-08 L592-628). Immutable, thread-safe.
 */
public final class MercureException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The HTTP status. */
    private final int status;
    /** The {@code WWW-Authenticate} value, or null. */
    private final String challenge;
    private final transient BearerChallenge parsed;
    /** The response body; empty if none. */
    private final String body;

    /**
     * A refusal.
     *
     * @param message what was refused, for the exception's message
     * @param status the HTTP status
     * @param challenge the {@code WWW-Authenticate} value, or null when there was none
     * @param body the response body (the hub's reason), or null
     */
    public MercureException(String message, int status, String challenge, String body) {
        super(message + ": HTTP " + status + (challenge != null ? " (" + challenge + ")" : "")
                + (body != null && !body.isBlank() ? ": " + Text.escape(body.strip()) : ""));
        this.status = status;
        this.challenge = challenge;
        this.parsed = BearerChallenge.parse(challenge);
        this.body = body == null ? "" : body;
    }

    /**
     * The HTTP status.
     *
     * @return e.g. 400, 401, 403, 413, 429, 503
     */
    public int status() {
        return status;
    }

    /**
     * The RFC 6750 error code of the {@code Bearer} challenge.
     *
     * @return e.g. {@code invalid_token}; empty when the answer carried no challenge or a bare one
     *     (no token was presented)
     */
    public Optional<String> error() {
        return Optional.ofNullable(parsed().params().get("error"));
    }

    /**
     * The RFC 6750 {@code error_description}, if the hub sent one.
     *
     * @return the description, or empty
     */
    public Optional<String> errorDescription() {
        return Optional.ofNullable(parsed().params().get("error_description"));
    }

    /**
     * The RFC 9728 {@code resource_metadata} URL of the challenge.
     *
     * @return the URL, or empty
     */
    public Optional<String> resourceMetadata() {
        return Optional.ofNullable(parsed().params().get("resource_metadata"));
    }

    /**
     * The {@code WWW-Authenticate} value as received.
     *
     * @return the challenge, or empty when there was none
     */
    public Optional<String> challenge() {
        return Optional.ofNullable(challenge);
    }

    /**
     * The response body: ssekit-hub puts its reason there.
     *
     * @return the body; empty if none
     */
    public String body() {
        return body;
    }

    private BearerChallenge parsed() {
        // transient: a deserialized exception parses again
        return parsed != null ? parsed : BearerChallenge.parse(challenge);
    }
}
