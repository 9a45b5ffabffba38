package dev.ssekit.spi;

/**
 * An append whose idempotency key the log remembers from an earlier append with other content
 * (data, event type, retry, topics or the restricted flag differ; the message's id is not
 * compared): not a retry of that append but another publish reusing its key. Nothing was stored;
 * the earlier event stays as it was. Publish it with another key. Immutable; thrown by any thread
 * that completes an append.
 */
public final class IdempotencyKeyConflictException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The key both appends carried. */
    private final String idempotencyKey;
    /** The id of the event stored under the key by the earlier append. */
    private final String storedId;

    /**
     * Creates one.
     *
     * @param idempotencyKey the key both appends carried
     * @param storedId the id of the event the earlier append stored under the key
     * @throws NullPointerException if an argument is null
     */
    public IdempotencyKeyConflictException(String idempotencyKey, String storedId) {
        super("idempotency key \"" + idempotencyKey + "\" already names event \"" + storedId
                + "\", stored with other content (data, event type, retry, topics or restricted flag); nothing stored");
        this.idempotencyKey = java.util.Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        this.storedId = java.util.Objects.requireNonNull(storedId, "storedId");
    }

    /**
     * The key both appends carried.
     *
     * @return the key, never empty
     */
    public String idempotencyKey() {
        return idempotencyKey;
    }

    /**
     * The id of the event the earlier append stored under the key.
     *
     * @return the stored event's id
     */
    public String storedId() {
        return storedId;
    }
}
