package dev.ssekit.spi;

/**
 * An append refused because the event is larger than the log can store and read back (a {@link
 * EventLog#file file log}'s record limit). Nothing of it is stored and it takes no sequence number;
 * the other appends of the same batch are not affected. A server answers it as a request too large
 * (the hub: {@code 413}). Immutable.
 */
public final class EventTooLargeException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** The event's size as the log would store it, in bytes. */
    private final long size;
    /** The largest size the log stores. */
    private final long limit;

    /**
     * A refusal.
     *
     * @param size the event's size as the log would store it, in bytes
     * @param limit the largest size the log stores, in bytes
     */
    public EventTooLargeException(long size, long limit) {
        super("the event is " + size + " bytes as stored, over the event log's limit of " + limit + " bytes");
        this.size = size;
        this.limit = limit;
    }

    /**
     * The event's size as the log would store it.
     *
     * @return bytes
     */
    public long size() {
        return size;
    }

    /**
     * The largest size the log stores.
     *
     * @return bytes
     */
    public long limit() {
        return limit;
    }
}
