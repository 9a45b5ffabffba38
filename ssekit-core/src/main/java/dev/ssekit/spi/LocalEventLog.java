package dev.ssekit.spi;

import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The append path of the logs in this process (memory, file): group commit by a leader. Each append
 * joins a queue; whoever gets the append lock takes everything queued, numbers and encodes it,
 * {@link #write}s it as one batch (one write, one fsync for the file log), adds it to the {@link
 * Retention}, hands the events to the follower in sequence order and completes their stages, and
 * goes on while the queue is not empty. An append that finds the lock taken returns at once: the
 * leader takes its request. Reads go to the retention and never take the append lock.
 */
abstract sealed class LocalEventLog implements EventLog permits MemoryEventLog, FileEventLog {

    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    final Retention retention;
    final Ticker ticker;
    private final ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>();
    /** Held by the leader across a batch: its I/O, its follower calls. */
    final ReentrantLock appendLock = new ReentrantLock();
    private volatile Consumer<StoredEvent> follower;
    private volatile boolean closed;

    private record Request(SseMessage message, Set<String> topics, boolean restricted, CompletableFuture<StoredEvent> done) {
    }

    LocalEventLog(Retention retention, Ticker ticker) {
        this.retention = retention;
        this.ticker = ticker;
    }

    /**
     * Stores a batch (under the append lock), or throws leaving nothing stored.
     *
     * @param events numbered from {@code retention.lastSequence() + 1} without gaps
     */
    abstract void write(List<StoredEvent> events) throws Exception;

    /**
     * Whether the log can store this event (under the append lock, before it is numbered for good):
     * the refusal to complete its append with, or null. A refused event takes no sequence number
     * and the rest of its batch is stored as usual.
     */
    RuntimeException refuse(StoredEvent event) {
        return null;
    }

    /** After a batch is in the retention (under the append lock): housekeeping such as compaction. */
    void written() {
    }

    /** Releases what {@link #write} uses (under the append lock, once). */
    abstract void release();

    @Override
    public final CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(topics, "topics");
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the event log is closed"));
        }
        Request r = new Request(message, Set.copyOf(topics), restricted, new CompletableFuture<>());
        queue.add(r);
        drain();
        return r.done();
    }

    /**
     * Leads while there is work and the lock is free. A request queued while the leader is between
     * its last poll and its unlock is seen by the leader's re-check after unlocking, or by its own
     * appender's tryLock, which then succeeds.
     */
    private void drain() {
        if (appendLock.isHeldByCurrentThread()) {
            return; // an append from the follower: the batch in progress ends first, then this leader takes it
        }
        // a leader stores other publishers' events too: an interrupt of its thread (which a file's
        // channel would answer by closing itself, and a follower's wait has kept) waits until it is done
        boolean interrupted = false;
        try {
            do {
                if (!appendLock.tryLock()) {
                    return;
                }
                List<Request> batch = new ArrayList<>();
                try {
                    for (Request r; (r = queue.poll()) != null;) {
                        batch.add(r);
                    }
                    if (!batch.isEmpty()) {
                        interrupted |= Thread.interrupted();
                        commit(batch);
                    }
                } catch (RuntimeException | Error unexpected) {
                    // no stage is left pending (completing a completed one does nothing)
                    batch.forEach(r -> r.done().completeExceptionally(unexpected));
                    if (unexpected instanceof Error e) {
                        throw e;
                    }
                    LOG.log(System.Logger.Level.ERROR, "the event log failed to append", unexpected);
                } finally {
                    appendLock.unlock();
                }
            } while (!queue.isEmpty());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void commit(List<Request> batch) {
        if (closed) {
            batch.forEach(r -> r.done().completeExceptionally(new IllegalStateException("the event log is closed")));
            return;
        }
        List<StoredEvent> events = new ArrayList<>(batch.size());
        List<Request> accepted = new ArrayList<>(batch.size());
        String epoch = retention.epoch();
        long seq = retention.lastSequence();
        long now = ticker.read();
        for (Request r : batch) {
            long next = seq + 1;
            SseMessage m = r.message();
            String id = m.id().orElse(epoch + "-" + next);
            byte[] frame = m.id().isPresent() ? m.encode() : m.withId(id).encode();
            StoredEvent e = new StoredEvent(next, id, r.topics(), frame, now, r.restricted());
            RuntimeException refused = refuse(e);
            if (refused != null) {
                r.done().completeExceptionally(refused); // it takes no number: the ones after it stay gapless
                continue;
            }
            seq = next;
            events.add(e);
            accepted.add(r);
        }
        if (events.isEmpty()) {
            return;
        }
        batch = accepted;
        try {
            write(events);
        } catch (Exception | Error e) {
            // nothing of the batch is stored, served or followed: each publish fails
            batch.forEach(r -> r.done().completeExceptionally(e));
            if (e instanceof Error err) {
                throw err;
            }
            return;
        }
        for (StoredEvent e : events) {
            retention.add(e);
        }
        try {
            written();
        } catch (RuntimeException housekeeping) {
            // the batch is stored; what failed after it (a compaction) does not undo it
            LOG.log(System.Logger.Level.ERROR, "the event log failed after an append", housekeeping);
        }
        Consumer<StoredEvent> f = follower;
        for (int i = 0; i < events.size(); i++) {
            StoredEvent e = events.get(i);
            if (f != null) {
                try {
                    f.accept(e);
                } catch (RuntimeException failed) {
                    LOG.log(System.Logger.Level.WARNING, "the event log's follower failed on event " + e.id(), failed);
                }
            }
            batch.get(i).done().complete(e);
        }
    }

    @Override
    public final void follow(Consumer<StoredEvent> follower) {
        Objects.requireNonNull(follower, "follower");
        appendLock.lock(); // not in the middle of a batch
        try {
            if (this.follower != null) {
                throw new IllegalStateException("the event log has a follower already");
            }
            this.follower = follower;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public final void close() {
        appendLock.lock(); // after the batch in progress
        try {
            if (closed) {
                return;
            }
            closed = true;
            follower = null;
            release();
        } finally {
            appendLock.unlock();
        }
        for (Request r; (r = queue.poll()) != null;) {
            r.done().completeExceptionally(new IllegalStateException("the event log is closed"));
        }
    }

    @Override
    public final String epoch() {
        return retention.epoch();
    }

    @Override
    public final long lastSequence() {
        return retention.lastSequence();
    }

    @Override
    public final Optional<StoredEvent> oldest() {
        return retention.oldest();
    }

    @Override
    public final OptionalLong sequenceOf(String id) {
        return retention.sequenceOf(id);
    }

    @Override
    public final List<StoredEvent> after(long sequence) {
        return retention.after(sequence);
    }

    @Override
    public final long size() {
        return retention.size();
    }

    @Override
    public final long bytes() {
        return retention.bytes();
    }
}
