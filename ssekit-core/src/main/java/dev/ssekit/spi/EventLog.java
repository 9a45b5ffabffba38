package dev.ssekit.spi;

import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The event log behind a {@link dev.ssekit.Broadcaster}: it owns sequencing and durability. An
 * {@link #append} gives the event the next sequence number and its wire id, encodes it once, stores
 * it and completes with the stored event; the log then hands every stored event, in sequence order,
 * to its one {@link #follow follower} (the broadcaster's fan-out). The reads serve {@code
 * Last-Event-ID} resumes and never wait for an append in progress (its I/O, its fsync, its
 * follower).
 *
 * <p>In memory ({@link #inMemory}, the default), in a file ({@link #file}, durable across restarts)
 * or on Redis ({@code dev.ssekit.redis.RedisEventLog}, many nodes, one sequence).
 *
 * <p>Implementations must be thread-safe: appends come from many threads at once, reads run
 * concurrently with appends.
 */
public interface EventLog extends AutoCloseable {

    /**
     * Identifies this log's sequence space. Log-assigned ids are {@code <epoch>-<sequence>}, so an id
     * from another log (or from before a restart of an in-memory log) is recognised as unknown
     * instead of being mistaken for a local sequence number.
     *
     * @return a short token of letters and digits
     */
    String epoch();

    /**
     * The sequence number of the newest event stored (as far as this node knows, for a shared log).
     *
     * @return 0 when nothing was stored
     */
    long lastSequence();

    /**
     * The oldest event still retained.
     *
     * @return the oldest retained event, or empty when none is retained
     */
    Optional<StoredEvent> oldest();

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
     *     ones were evicted)
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
     * Stores an event. The log assigns the next sequence number and the wire id ({@code
     * <epoch>-<sequence>} unless the message has an id, which is kept), encodes the event once
     * ({@link StoredEvent#frame()}, id included) and stores it. Concurrent appends may be stored as
     * one batch (one write, one fsync). Never throws: every failure completes the stage.
     *
     * @param message the event
     * @param topics the topics it is published to (the caller validates them)
     * @param restricted whether only subscribers authorized for one of its topics may receive it
     * @return completes with the stored event once it is stored (and, for the local logs, once the
     *     follower has had it); completes exceptionally when it cannot be stored (I/O error, Redis
     *     unreachable, the log closed: {@link IllegalStateException})
     */
    CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted);

    /**
     * Stores an event as {@link #append(SseMessage, Set, boolean)}, with an idempotency key: a log
     * that honours keys (the Redis log) remembers the key with the append's outcome for a while,
     * and an append with a key it remembers completes with the first outcome's stored event (its
     * sequence and id) instead of storing another. What a publisher retries with after {@link
     * AppendOutcomeUnknownException}. The default ignores the key (a log in this process always
     * knows its outcome).
     *
     * @param message the event
     * @param topics the topics it is published to (the caller validates them)
     * @param restricted whether only subscribers authorized for one of its topics may receive it
     * @param idempotencyKey a non-empty key naming this publish (the event's id when it has one)
     * @return as {@link #append(SseMessage, Set, boolean)}; completes exceptionally with {@link
     *     AppendOutcomeUnknownException} when the event may or may not have been stored
     * @throws NullPointerException if an argument is null
     */
    default CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted, String idempotencyKey) {
        java.util.Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        return append(message, topics, restricted);
    }

    /**
     * Registers the one follower: from now on it is called with every event stored, exactly once,
     * in sequence order and never concurrently, including events stored by other nodes of a shared
     * log. It runs on the thread that stored the event (an appender, or a shared log's reader) and
     * must not block: an append waits for it. An append it makes itself is stored after the events
     * being followed (so it must not wait for that append). Events stored before this call are not
     * passed to it.
     *
     * @param follower the consumer; exceptions it throws are logged and ignored
     * @throws IllegalStateException if a follower is registered already
     */
    void follow(Consumer<StoredEvent> follower);

    /**
     * Registers the one follower, as {@link #follow(Consumer)}, and a listener for the events this
     * node will never hand it: a shared log that finds entries trimmed before it read them, or its
     * store's data lost or rolled back (a new epoch), calls {@code lost} on the follower's thread,
     * in order: after the last event it handed over before the loss, before the first one after
     * it. The listener gets the id of that last event (empty when there was none) and must not
     * block. The default registers the follower only (a log in this process loses nothing).
     *
     * @param follower the consumer of stored events
     * @param lost told of each loss; exceptions it throws are logged and ignored
     * @throws IllegalStateException if a follower is registered already
     */
    default void follow(Consumer<StoredEvent> follower, Consumer<String> lost) {
        java.util.Objects.requireNonNull(lost, "lost");
        follow(follower);
    }

    /**
     * Completes once every event stored anywhere before this call has reached this node's reads
     * and its follower. For a local log that is already so; a shared log asks its backend.
     *
     * @return completes normally when caught up, exceptionally when the backend cannot be asked
     */
    default CompletionStage<Void> caughtUp() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Stops: later appends fail with {@link IllegalStateException}, files and connections are
     * released, the follower is called no more. Idempotent.
     */
    @Override
    void close();

    /**
     * An in-memory log bounded by count, bytes and age; the oldest events go first.
     *
     * @param maxEvents at least 1
     * @param maxBytes at least 1
     * @param maxAge positive
     * @param ticker the clock for ages (the broadcaster's)
     * @return a new log with a new epoch
     * @throws IllegalArgumentException naming the setting and value when one is out of range
     */
    static EventLog inMemory(int maxEvents, long maxBytes, Duration maxAge, Ticker ticker) {
        return new MemoryEventLog(new Retention(maxEvents, maxBytes, maxAge, ticker, Retention.newEpoch()), ticker);
    }

    /**
     * A durable log: an append-only file in {@code directory} (created if missing), with the same
     * limits as {@link #inMemory} for what it retains and serves. On open it reloads the file, so a
     * restarted process continues the same epoch and sequence: clients resume with the ids they
     * have. A record torn by a crash (its length or CRC does not check) ends the log there and is cut
     * off. The file is rewritten to the retained events when it grows past four times their size.
     * Concurrent appends are written as one batch and, with {@code fsync}, forced once (group
     * commit).
     *
     * @param directory where the log lives; one log per directory at a time
     * @param maxEvents at least 1
     * @param maxBytes at least 1
     * @param maxAge positive
     * @param ticker the clock for ages
     * @param fsync {@code true}: every batch of appends, and the names of the log and epoch files,
     *     are forced to the device before the appends complete (what surviving a power loss takes);
     *     {@code false}: appends reach the operating system before they complete (survive a killed
     *     process, not a power loss)
     * @return the opened log
     * @throws java.io.UncheckedIOException if the directory or log cannot be read or written
     * @throws IllegalArgumentException naming the setting and value when a limit is out of range
     */
    static EventLog file(java.nio.file.Path directory, int maxEvents, long maxBytes, Duration maxAge, Ticker ticker,
            boolean fsync) {
        return FileEventLog.open(directory, maxEvents, maxBytes, maxAge, ticker, fsync);
    }
}
