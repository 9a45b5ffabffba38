package dev.ssekit.hub;

/** A token that must not be trusted; the message says why (never echoes the token). */
final class JwtException extends Exception {
    private static final long serialVersionUID = 1L;

    JwtException(String message) {
        super(message);
    }
}
