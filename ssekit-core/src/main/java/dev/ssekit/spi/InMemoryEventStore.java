package dev.ssekit.spi;

import dev.ssekit.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link EventStore#inMemory}: a ring of events indexed by sequence (the offset of sequence s is
 * {@code s - first}, so a resume point is found in O(1)) and a map from wire id to sequence.
 */
final class InMemoryEventStore implements EventStore {

    private final int maxEvents;
    private final long maxBytes;
    private final long maxAgeNanos;
    private final Ticker ticker;
    private final String epoch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Long> sequenceById = new HashMap<>();

    private StoredEvent[] ring = new StoredEvent[16];
    private int head;
    private int count;
    private long bytes;
    private long last;

    InMemoryEventStore(int maxEvents, long maxBytes, Duration maxAge, Ticker ticker) {
        this(maxEvents, maxBytes, maxAge, ticker, newEpoch());
    }

    /** A store continuing an epoch (a durable store reloading its log). */
    InMemoryEventStore(int maxEvents, long maxBytes, Duration maxAge, Ticker ticker, String epoch) {
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

    /** A new epoch per store: ids of an earlier process are unknown here, never misread. */
    static String newEpoch() {
        return Long.toString(System.currentTimeMillis(), 36) + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36), 36);
    }

    /** Sets the last sequence of an empty store (a durable store whose retained events were all evicted). */
    void continueAfter(long sequence) {
        lock.lock();
        try {
            if (count == 0 && sequence > last) {
                last = sequence;
            }
        } finally {
            lock.unlock();
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String epoch() {
        return epoch;
    }

    @Override
    public long lastSequence() {
        lock.lock();
        try {
            return last;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long firstSequence() {
        lock.lock();
        try {
            evictOld();
            return count == 0 ? last + 1 : ring[head].sequence();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public java.util.Optional<StoredEvent> oldest() {
        lock.lock();
        try {
            evictOld();
            return count == 0 ? java.util.Optional.empty() : java.util.Optional.of(ring[head]);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void append(StoredEvent event) {
        lock.lock();
        try {
            if (event.sequence() != last + 1) {
                throw new IllegalArgumentException("sequence must be " + (last + 1) + ", got " + event.sequence());
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
            sequenceById.put(event.id(), event.sequence());
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
        sequenceById.remove(e.id(), e.sequence());
    }

    private void evictOld() {
        long now = ticker.read();
        while (count > 0 && now - ring[head].nanoTime() > maxAgeNanos) {
            removeOldest();
        }
    }

    @Override
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

    @Override
    public List<StoredEvent> after(long sequence) {
        lock.lock();
        try {
            evictOld();
            if (count == 0) {
                return List.of();
            }
            long first = ring[head].sequence();
            long from = Math.max(0, sequence + 1 - first);
            if (from >= count) {
                return List.of();
            }
            List<StoredEvent> out = new ArrayList<>((int) (count - from));
            for (long i = from; i < count; i++) {
                out.add(ring[(int) ((head + i) % ring.length)]);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long size() {
        lock.lock();
        try {
            evictOld();
            return count;
        } finally {
            lock.unlock();
        }
    }

    @Override
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
        return "InMemoryEventStore[epoch=" + epoch + ", maxEvents=" + maxEvents + ", maxBytes=" + maxBytes
                + ", maxAgeNanos=" + maxAgeNanos + ", ring=" + Arrays.toString(new int[] {head, count}) + "]";
    }
}
