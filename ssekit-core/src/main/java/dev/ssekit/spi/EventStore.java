package dev.ssekit.spi;

import dev.ssekit.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * The history behind a {@link dev.ssekit.Broadcaster}: the events it published, so that a client
 * reconnecting with {@code Last-Event-ID} gets what it missed. The broadcaster calls {@link
 * #append} under its publish lock, with sequence numbers {@code lastSequence() + 1, + 2, …}.
 * Implementations must be thread-safe; reads may run concurrently with appends.
 *
 * <p>{@link #inMemory} is the default. Durable and Redis-backed stores implement this interface.
 */
public interface EventStore {

    /**
     * Identifies this store's sequence space. Broadcaster-assigned ids carry it, so an id from
     * another store (or from before a restart of an in-memory store) is recognised as unknown
     * instead of being mistaken for a local sequence number.
     *
     * @return a short token of letters and digits
     */
    String epoch();

    /**
     * The sequence number of the newest event ever appended.
     *
     * @return 0 when nothing was appended
     */
    long lastSequence();

    /**
     * The sequence number of the oldest event still retained.
     *
     * @return {@code lastSequence() + 1} when none is retained
     */
    long firstSequence();

    /**
     * The oldest event still retained. The default reads {@link #after} from {@link
     * #firstSequence()}; stores that can, answer without copying the history.
     *
     * @return the oldest retained event, or empty when none is retained
     */
    default java.util.Optional<StoredEvent> oldest() {
        List<StoredEvent> from = after(firstSequence() - 1);
        return from.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(from.getFirst());
    }

    /**
     * Stores an event; may evict the oldest ones to respect the store's limits.
     *
     * @param event the event; its sequence is {@code lastSequence() + 1}
     * @throws IllegalArgumentException if the sequence is not the next one
     */
    void append(StoredEvent event);

    /**
     * The sequence of the retained event with this wire id.
     *
     * @param id an id as sent to clients
     * @return its sequence, or empty when no retained event has that id
     */
    OptionalLong sequenceOf(String id);

    /**
     * The retained events with a sequence greater than {@code sequence}, oldest first. Finding the
     * start is O(1) or O(log n); never a scan.
     *
     * @param sequence the last sequence the caller has
     * @return the events after it (possibly starting later than {@code sequence + 1} when older
     *     ones were evicted: compare with {@link #firstSequence()})
     */
    List<StoredEvent> after(long sequence);

    /**
     * How many events are retained.
     *
     * @return the count
     */
    long size();

    /**
     * The encoded bytes retained.
     *
     * @return the byte count
     */
    long bytes();

    /**
     * An in-memory store bounded by count, bytes and age; the oldest events go first.
     *
     * @param maxEvents at least 1
     * @param maxBytes at least 1
     * @param maxAge positive
     * @param ticker the clock for ages (the broadcaster's)
     * @return a new store
     * @throws IllegalArgumentException naming the setting and value when one is out of range
     */
    static EventStore inMemory(int maxEvents, long maxBytes, Duration maxAge, Ticker ticker) {
        return new InMemoryEventStore(maxEvents, maxBytes, maxAge, ticker);
    }

    /**
     * A durable store: an append-only log in {@code directory} (created if missing), with the same
     * limits as {@link #inMemory} for what it retains and serves. On open it reloads the log, so a
     * restarted process continues the same epoch and sequence: clients resume with the ids they
     * have. A record torn by a crash (its length or CRC does not check) ends the log there and is cut
     * off. The log is rewritten to the retained events when it grows past four times their size.
     *
     * @param directory where the log lives; one store per directory at a time
     * @param maxEvents at least 1
     * @param maxBytes at least 1
     * @param maxAge positive
     * @param ticker the clock for ages
     * @param fsync {@code true}: every append, and the names of the log and epoch files, are forced
     *     to the device before it returns (what surviving a power loss takes); {@code false}: appends reach the operating system before they return (survive a
     *     killed process, not a power loss)
     * @return the opened store
     * @throws java.io.UncheckedIOException if the directory or log cannot be read or written
     * @throws IllegalArgumentException naming the setting and value when a limit is out of range
     */
    static EventStore file(java.nio.file.Path directory, int maxEvents, long maxBytes, Duration maxAge, Ticker ticker,
            boolean fsync) {
        return FileEventStore.open(directory, maxEvents, maxBytes, maxAge, ticker, fsync);
    }
}
