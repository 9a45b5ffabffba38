package dev.ssekit.spi;

/**
 * An append whose outcome the log cannot tell: the request reached (or may have reached) the
 * store, but its answer did not come back (a timeout, a connection dropped after the request was
 * sent). The event may be stored, and then it is delivered like any other. Retrying with the same
 * idempotency key ({@link EventLog#append(dev.ssekit.SseMessage, java.util.Set, boolean, String)})
 * is safe on a log that honours keys: it answers with the first outcome instead of storing a
 * second event. Distinct from other append failures, which mean the event was not stored.
 * Immutable; thrown by any thread that completes an append.
 */
public final class AppendOutcomeUnknownException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The idempotency key the append carried (empty: none): what a retry must carry too. */
    private final String idempotencyKey;

    /**
     * Creates one.
     *
     * @param message what happened
     * @param idempotencyKey the key the append carried, empty when it carried none
     * @param cause the failure seen (a timeout, a dropped connection)
     */
    public AppendOutcomeUnknownException(String message, String idempotencyKey, Throwable cause) {
        super(message, cause);
        this.idempotencyKey = java.util.Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    }

    /**
     * The idempotency key the append carried.
     *
     * @return the key a retry must carry to be answered with this append's outcome; empty when the
     *     append carried none (then a retry cannot be matched with it)
     */
    public String idempotencyKey() {
        return idempotencyKey;
    }
}
