package dev.ssekit;

/** Why a {@link SseConnection} became CLOSED. */
public enum CloseReason {
    /** The application called {@link SseConnection#close()}. */
    CLOSED,
    /**
     * A write failed: the client disconnected (or the network failed). This is the ordinary end of
     * most streams and is not logged as an error.
     */
    CLIENT_GONE
}
