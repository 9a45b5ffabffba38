package dev.ssekit.spi;

import dev.ssekit.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The retained window of an {@link EventLog}: stored events in memory, bounded by count, bytes and
 * age (the oldest go first), indexed by sequence and by wire id, for the reads of a log. The memory
 * and file logs keep theirs here, and so may other implementations (a Redis log keeps what its node
 * has read).
 *
 * <p>A ring of events by sequence: a resume point is found in O(1) when the sequence has no gaps,
 * in O(log n) otherwise. Thread-safe: every method takes a lock of this window's own, held for the
 * few steps of the operation (never across I/O), so reads never wait for an append's I/O.
 */
public final class Retention {

    private final int maxEvents;
    private final long maxBytes;
    private final long maxAgeNanos;
    private final Ticker ticker;
    private final String epoch;
    private final ReentrantLock lock = new ReentrantLock();
    /** Each retained id's earliest sequence (Mercure 1.0 L949-952: a repeated id resolves to its earliest update). */
    private final Map<String, Long> sequenceById = new HashMap<>();
    /** How many retained events share an id, for the ids that more than one has; the others are absent. */
    private final Map<String, Integer> repeats = new HashMap<>();

    private StoredEvent[] ring = new StoredEvent[16];
    private int head;
    private int count;
    private long bytes;
    /** Written under the lock, read without it. */
    private volatile long last;

    /**
     * An empty window.
     *
     * @param maxEvents at least 1
     * @param maxBytes at least 1
     * @param maxAge positive
     * @param ticker the clock for ages
     * @param epoch the log's epoch, reported by {@link #epoch()}
     * @throws IllegalArgumentException naming the setting and value when a limit is out of range
     * @throws NullPointerException if an argument is null
     */
    public Retention(int maxEvents, long maxBytes, Duration maxAge, Ticker ticker, String epoch) {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("history maxEvents must be at least 1: " + maxEvents);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("history maxBytes must be at least 1: " + maxBytes);
        }
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("history maxAge must be positive: " + maxAge);
        }
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.maxAgeNanos = saturatedNanos(maxAge);
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.epoch = Objects.requireNonNull(epoch, "epoch");
    }

    /** A new epoch per log: ids of an earlier process are unknown here, never misread. */
    static String newEpoch() {
        return Long.toString(System.currentTimeMillis(), 36) + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36), 36);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * The epoch given at construction.
     *
     * @return the epoch
     */
    public String epoch() {
        return epoch;
    }

    /**
     * The sequence of the newest event added (or set by {@link #continueAfter}); lock-free.
     *
     * @return 0 when none
     */
    public long lastSequence() {
        return last;
    }

    /**
     * Raises the last sequence without adding an event: the next event may carry any greater
     * sequence (a reloaded log whose retained events were all evicted; a shared log that skipped
     * entries).
     *
     * @param sequence the sequence to continue after; ignored when not greater than the last
     */
    public void continueAfter(long sequence) {
        lock.lock();
        try {
            if (sequence > last) {
                last = sequence;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The oldest retained event.
     *
     * @return it, or empty when none is retained
     */
    public Optional<StoredEvent> oldest() {
        lock.lock();
        try {
            evictOld();
            return count == 0 ? Optional.empty() : Optional.of(ring[head]);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds an event; evicts the oldest ones to respect the limits.
     *
     * @param event the event; its sequence must be greater than {@link #lastSequence()}
     * @throws IllegalArgumentException if it is not
     */
    public void add(StoredEvent event) {
        lock.lock();
        try {
            if (event.sequence() <= last) {
                throw new IllegalArgumentException("sequence must be greater than " + last + ", got " + event.sequence());
            }
            if (count == ring.length) {
                if (ring.length < maxEvents) {
                    grow();
                } else {
                    removeOldest();
                }
            }
            ring[(head + count) % ring.length] = event;
            count++;
            bytes += event.frame().length;
            last = event.sequence();
            if (sequenceById.putIfAbsent(event.id(), event.sequence()) != null) {
                repeats.merge(event.id(), 2, (n, two) -> n + 1);
            }
            while (count > maxEvents || (bytes > maxBytes && count > 1)) {
                removeOldest();
            }
            evictOld();
        } finally {
            lock.unlock();
        }
    }

    private void grow() {
        StoredEvent[] bigger = new StoredEvent[(int) Math.min(maxEvents, (long) ring.length * 2)];
        for (int i = 0; i < count; i++) {
            bigger[i] = ring[(head + i) % ring.length];
        }
        ring = bigger;
        head = 0;
    }

    private void removeOldest() {
        StoredEvent e = ring[head];
        ring[head] = null;
        head = (head + 1) % ring.length;
        count--;
        bytes -= e.frame().length;
        Integer n = repeats.get(e.id());
        if (n == null) {
            sequenceById.remove(e.id(), e.sequence());
            return;
        }
        // the oldest of several events with this id went: the next one (scanned for, only for repeated ids) is the earliest now
        if (n <= 2) {
            repeats.remove(e.id());
        } else {
            repeats.put(e.id(), n - 1);
        }
        for (int i = 0; i < count; i++) {
            StoredEvent next = at(i);
            if (next.id().equals(e.id())) {
                sequenceById.put(e.id(), next.sequence());
                return;
            }
        }
        sequenceById.remove(e.id()); // cannot happen: the count said one more is retained
    }

    private void evictOld() {
        long now = ticker.read();
        while (count > 0 && now - ring[head].nanoTime() > maxAgeNanos) {
            removeOldest();
        }
    }

    private StoredEvent at(long offset) {
        return ring[(int) ((head + offset) % ring.length)];
    }

    /**
     * The sequence of the retained event with this wire id.
     *
     * @param id an id as sent to clients
     * @return its sequence, or empty
     */
    public OptionalLong sequenceOf(String id) {
        lock.lock();
        try {
            evictOld();
            Long s = sequenceById.get(id);
            return s == null ? OptionalLong.empty() : OptionalLong.of(s);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The retained events after a sequence, oldest first: O(1) to the start without gaps, O(log n)
     * with gaps.
     *
     * @param sequence the last sequence the caller has
     * @return a new list
     */
    public List<StoredEvent> after(long sequence) {
        lock.lock();
        try {
            evictOld();
            if (count == 0) {
                return List.of();
            }
            long from = Math.max(0, sequence + 1 - ring[head].sequence());
            if (from < count && at(from).sequence() != sequence + 1 && from > 0) {
                from = firstAbove(sequence); // gaps: the guess is off
            } else if (from >= count && at(count - 1).sequence() > sequence) {
                from = firstAbove(sequence);
            }
            if (from >= count) {
                return List.of();
            }
            List<StoredEvent> out = new ArrayList<>((int) (count - from));
            for (long i = from; i < count; i++) {
                out.add(at(i));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The offset of the first retained event with a sequence above {@code sequence} (binary search). */
    private long firstAbove(long sequence) {
        long lo = 0;
        long hi = count;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (at(mid).sequence() <= sequence) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * How many events are retained.
     *
     * @return the count
     */
    public long size() {
        lock.lock();
        try {
            evictOld();
            return count;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The encoded bytes retained.
     *
     * @return the byte count
     */
    public long bytes() {
        lock.lock();
        try {
            evictOld();
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Retention[epoch=" + epoch + ", maxEvents=" + maxEvents + ", maxBytes=" + maxBytes + ", maxAgeNanos=" + maxAgeNanos
                + ", last=" + last + "]";
    }
}
