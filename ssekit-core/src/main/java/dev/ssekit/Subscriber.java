package dev.ssekit;

import dev.ssekit.spi.StoredEvent;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One subscriber of a {@link Broadcaster}: a queue of encoded frames bounded in bytes, filled by its
 * {@link DeliveryGroup}'s thread. The drain takes every frame queued so far and hands them, the
 * shared arrays themselves, to the transport in one gathering write: from the transport's I/O
 * thread (an asynchronous transport, one write in flight) or from a virtual thread that exists only
 * while there is something to write (DESIGN.md §4). It knows its broadcaster only through the
 * shared {@link DeliveryContext}.
 *
 * <p><b>Replay.</b> A resume is paced by the writer, not pushed into the queue's bound: the history
 * to replay (the plan's, then what the log appended meanwhile, read again from the log) is handed to
 * the queue a chunk at a time (at most half the bound), each when the queue has gone out, so a
 * replay of any length within history completes and the policy never drops or evicts for it. Live
 * events offered meanwhile are ignored: the log holds them, and the replay reads them from it; the
 * replay turns into live delivery, under the lock, once the log has nothing after it. If history
 * dropped events before the replay got to them (the client reads slower than events come, or
 * history's age limit passed while it read), the policy decides: {@link SlowConsumerPolicy#DISCONNECT}
 * evicts it, {@link SlowConsumerPolicy#DROP_OLDEST} sends a {@code reset} notice where they are
 * missing. What history dropped is judged against the log's numbering (oldest first, one sequence
 * after the other) and the newest live event the replay ignored, not against the resume point's id:
 * a replay that started live, after an unknown id or from {@code earliest} is told too.
 */
final class Subscriber implements Subscription {

    private final DeliveryContext owner;
    /** The group that delivers to it (its index holds it while it is subscribed). */
    final DeliveryGroup group;
    final StreamConnection connection;
    private final List<TopicSelector> selectors;
    /** Topics this subscriber may receive restricted events for; empty: none. */
    private final List<TopicSelector> authorized;
    private final ReentrantLock lock = new ReentrantLock();

    // guarded by lock
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>(1); // grows with a burst; idle, 2 slots (not 17)
    private long queuedBytes;
    private boolean draining;
    /** Until the replay has been handed to the queue whole: live offers are ignored meanwhile. */
    private boolean replaying = true;
    /** Whether {@link #finishReplay} has given the replay its start. */
    private boolean planned;
    /** The history being replayed, from {@link #replayAt} on. */
    private List<StoredEvent> replay = List.of();
    private int replayAt;
    /** The sequence of the last event the replay has passed. */
    private long cursor;
    /** The sequence of the newest live event for it offered (and ignored) while it replays; 0: none. */
    private long ignoredLive;
    /** The id of the last event the client has (sent, or its resume point); "" when none. */
    private String clientLastId = "";
    private long lastSequence;
    private boolean closeAfterDrain;
    private boolean removed;

    /** Ticker reading when the current write started; 0 when not writing. */
    volatile long writeStartedAt;
    /** Ticker reading of the last completed write (or of the subscription). */
    volatile long lastWriteAt;

    Subscriber(DeliveryContext owner, DeliveryGroup group, StreamConnection connection, List<TopicSelector> selectors,
            List<TopicSelector> authorized, long now) {
        this.owner = owner;
        this.group = group;
        this.connection = connection;
        this.selectors = List.copyOf(selectors);
        this.authorized = List.copyOf(authorized);
        this.lastWriteAt = now;
    }

    /**
     * Whether this subscriber receives the event: one of its topics matches a selector and, for a
     * restricted event, one of its topics (maybe another) matches an authorization.
     */
    boolean accepts(StoredEvent e) {
        return anyMatch(e.topics(), selectors) && (!e.restricted() || anyMatch(e.topics(), authorized));
    }

    /**
     * As {@link #accepts(StoredEvent)}, with each selector's verdict on this event's topics taken
     * from, or added to, {@code verdicts}: a publish passes one map to all its subscribers, so ten
     * thousand subscribers sharing one compiled selector (the hub's selector store) cost one match.
     * Not thread-safe (one publish's map, used under the publish lock).
     */
    boolean accepts(StoredEvent e, Map<TopicSelector, Boolean> verdicts) {
        return anyMatch(e, selectors, verdicts) && (!e.restricted() || anyMatch(e, authorized, verdicts));
    }

    /** Whether, for an event whose topics the index already matched, the authorization also holds. */
    boolean authorizedFor(StoredEvent e, Map<TopicSelector, Boolean> verdicts) {
        return !e.restricted() || anyMatch(e, authorized, verdicts);
    }

    private static boolean anyMatch(StoredEvent e, List<TopicSelector> selectors, Map<TopicSelector, Boolean> verdicts) {
        for (TopicSelector s : selectors) {
            Boolean v = verdicts.get(s);
            if (v == null) {
                v = anyMatch(e.topics(), List.of(s));
                verdicts.put(s, v);
            }
            if (v) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyMatch(Iterable<String> topics, List<TopicSelector> selectors) {
        for (String t : topics) {
            for (TopicSelector s : selectors) {
                if (s.matches(t)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Live events from its group (one thread, in sequence order), taken under one lock: those at or
     * before the last one taken are skipped, none while the replay runs (it reads them from the
     * log), and nothing more once the subscriber is removed (an eviction on the way removes it).
     */
    void offer(List<StoredEvent> events) {
        boolean start = false;
        lock.lock();
        try {
            if (replaying) {
                // in the log: the replay gets them from there, in order; if history drops them
                // before it does, the replay knows they existed (and says so)
                StoredEvent last = events.getLast();
                if (last.sequence() > ignoredLive && accepts(last)) {
                    ignoredLive = last.sequence();
                }
                return;
            }
            for (StoredEvent e : events) {
                if (removed) {
                    break; // gone (maybe evicted by this very offer): what it had queued went with it
                }
                if (e.sequence() <= lastSequence) {
                    continue; // already had it (a subscriber matching two topics; the replay seam)
                }
                lastSequence = e.sequence();
                start |= enqueue(e.frame());
            }
        } finally {
            lock.unlock();
        }
        afterEnqueue(start);
    }

    /**
     * Starts the replay: {@code first} (a reset notice, or null), then the replayed events, then what
     * the log appended meanwhile, paced by the writes (see the class description), without
     * duplicates, in sequence order, and nothing at or before {@code after}; then live events.
     *
     * @param replay the history the plan read (events at or before {@code after} are skipped)
     * @param after the sequence the replay starts after (the resume point's), or 0
     * @param clientLastId the id the client resumes from ({@code ""}: none, or {@code earliest}):
     *     the {@code lastEventId} of a {@code reset} notice sent before any event
     */
    void finishReplay(byte[] first, List<StoredEvent> replay, long after, String clientLastId) {
        boolean start;
        lock.lock();
        try {
            if (removed || closeAfterDrain) {
                return; // gone, or shut down before its replay began: the shutdown notice is its last frame
            }
            if (first != null) {
                queue.addLast(first);
                queuedBytes += first.length;
            }
            this.replay = replay;
            this.replayAt = 0;
            this.cursor = after;
            this.clientLastId = clientLastId;
            this.planned = true;
            if (queue.isEmpty()) {
                refill(); // the first chunk now; often the whole replay, and live from here on
            }
            start = !queue.isEmpty() && !draining;
            if (start) {
                draining = true;
            }
        } finally {
            lock.unlock();
        }
        afterEnqueue(start);
    }

    /**
     * Under the lock, with the queue empty and the replay running: hands the queue the next chunk
     * of the replay, at least one event and at most half the bound (the bound's other half is the
     * live events' once the replay is over), reading the log again when the plan's history is out;
     * ends the replay when the log has nothing after it. Never applies the bound: the replay is
     * paced by the writes instead.
     */
    private void refill() {
        long budget = Math.max(1, owner.maxQueuedBytes / 2);
        long taken = 0;
        while (taken < budget) {
            if (replayAt < replay.size()) {
                StoredEvent e = replay.get(replayAt++);
                if (e.sequence() <= cursor) {
                    continue;
                }
                cursor = e.sequence();
                if (accepts(e)) {
                    clientLastId = e.id();
                    queue.addLast(e.frame());
                    queuedBytes += e.frame().length;
                    taken += e.frame().length;
                }
                continue;
            }
            // what the log appended since the replay was planned (live offers were ignored meanwhile)
            List<StoredEvent> more = owner.log.after(cursor);
            if (droppedUnread(more)) {
                // history dropped events after the cursor before the replay got to them: the
                // client reads slower than events come (or than history keeps them). Evicted as
                // slow, or told of the gap
                if (owner.policy == SlowConsumerPolicy.DISCONNECT) {
                    owner.evict(this, CloseReason.SLOW_CONSUMER); // removes it (and its queue) now
                    return;
                }
                byte[] notice = ResumePlanner.reset(clientLastId, "expired");
                queue.addLast(notice);
                queuedBytes += notice.length;
                taken += notice.length;
            }
            if (more.isEmpty()) {
                // under the lock: a live offer of an event the read missed comes after this
                replay = List.of();
                replaying = false;
                lastSequence = Math.max(lastSequence, Math.max(cursor, ignoredLive));
                return;
            }
            replay = more;
            replayAt = 0;
        }
    }

    /**
     * Under the lock: whether history dropped events after {@link #cursor} that the replay has not
     * read, given {@code more}, the log's events after it now. None left: whether a live event for
     * it came (and was ignored) after the cursor; those still on their way come live once the
     * replay ends. Some: whether the next is not the cursor's successor because history dropped
     * the successor (it goes oldest first, so it holds nothing that old any more); a shared log's
     * hole (a successor it never held, while it still holds older events) is not, its loss
     * listener tells of it.
     */
    private boolean droppedUnread(List<StoredEvent> more) {
        if (more.isEmpty()) {
            return ignoredLive > cursor;
        }
        if (more.getFirst().sequence() <= cursor + 1) {
            return false;
        }
        Optional<StoredEvent> oldest = owner.log.oldest();
        return oldest.isEmpty() || oldest.get().sequence() > cursor + 1;
    }

    /**
     * Under the lock: whether there is something to write, refilling from the replay when the
     * queue has gone out; otherwise ends the drain (see {@link #stoppedEmpty}).
     */
    private boolean hasMore() {
        if (replaying && planned && queue.isEmpty() && !removed && !closeAfterDrain) {
            refill();
        }
        return !stoppedEmpty();
    }

    /** A frame outside the event sequence (heartbeat, shutdown notice). */
    void offerControl(byte[] frame, boolean thenClose) {
        boolean start;
        lock.lock();
        try {
            if (removed) {
                return;
            }
            if (thenClose) {
                closeAfterDrain = true; // the last frame: what the replay has not handed out yet is not sent
                replay = List.of();
                replaying = false;
            }
            start = enqueue(frame);
        } finally {
            lock.unlock();
        }
        afterEnqueue(start);
    }

    /**
     * Whether nothing is queued or being written (a heartbeat candidate). A drain thread that has
     * finished its write but not yet noticed the empty queue counts as idle: a heartbeat queued now
     * is simply written by it.
     */
    boolean idle() {
        lock.lock();
        try {
            return !replaying && queue.isEmpty() && writeStartedAt == 0;
        } finally {
            lock.unlock();
        }
    }

    /** Adds a frame under the lock; applies the bound; returns whether a drain must start. */
    private boolean enqueue(byte[] frame) {
        long limit = owner.maxQueuedBytes;
        if (queuedBytes + frame.length > limit && !queue.isEmpty()) {
            if (owner.policy == SlowConsumerPolicy.DISCONNECT) {
                owner.evict(this, CloseReason.SLOW_CONSUMER);
                return false;
            }
            while (queuedBytes + frame.length > limit && !queue.isEmpty()) {
                byte[] dropped = queue.pollFirst();
                queuedBytes -= dropped.length;
                owner.dropped.increment();
            }
        }
        queue.addLast(frame);
        queuedBytes += frame.length;
        if (draining) {
            return false;
        }
        draining = true;
        return true;
    }

    private void afterEnqueue(boolean start) {
        if (!start) {
            return;
        }
        if (connection.asyncWrites()) {
            drainAsync(); // no thread: the write's completion takes the next batch
        } else {
            Thread.ofVirtual().name("ssekit-subscriber").start(this::drain);
        }
    }

    /** Everything queued, in order, or null (and draining cleared) when there is nothing. */
    private List<byte[]> takeBatch() {
        lock.lock();
        try {
            if (!hasMore()) {
                return null;
            }
            List<byte[]> batch = queue.size() == 1 ? List.of(queue.pollFirst()) : new ArrayList<>(queue);
            queue.clear();
            queuedBytes = 0;
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: when nothing is queued (or the subscriber left), ends the drain, and closes a
     * connection whose last frame was written; returns whether it did.
     */
    private boolean stoppedEmpty() {
        if (!queue.isEmpty() && !removed) {
            return false;
        }
        draining = false;
        if (closeAfterDrain && !removed) {
            closeAfterDrain = false;
            Thread.ofVirtual().name("ssekit-shutdown").start(() -> {
                owner.cancel(this);
                connection.closeWith(CloseReason.SHUTDOWN);
            });
        }
        return true;
    }

    /**
     * The non-blocking drain: one write in flight. The transport pulls the batch when its I/O
     * thread is about to write (so all that was queued by then goes in one write); the write's
     * completion, maybe on an event loop, asks for the next.
     */
    private void drainAsync() {
        int[] frames = new int[1];
        connection.writeFramesAsync(() -> {
            List<byte[]> batch = takeBatch();
            if (batch != null) {
                frames[0] = batch.size();
                writeStartedAt = owner.ticker.read();
            }
            return batch;
        }, error -> {
            lastWriteAt = owner.ticker.read();
            writeStartedAt = 0;
            if (error == null) {
                owner.delivered.add(frames[0]);
                boolean more;
                lock.lock();
                try {
                    more = hasMore(); // nothing new: no empty write round, the next offer starts one
                } finally {
                    lock.unlock();
                }
                if (more) {
                    drainAsync();
                }
            } else {
                lock.lock();
                try {
                    draining = false; // the connection is closing; its close listener removes us
                } finally {
                    lock.unlock();
                }
            }
        });
    }

    private void drain() {
        while (true) {
            List<byte[]> batch = takeBatch();
            if (batch == null) {
                return;
            }
            writeStartedAt = owner.ticker.read();
            boolean written = false;
            try {
                connection.writeFrames(batch);
                written = true;
            } catch (IOException e) {
                // the connection is CLOSED (CLIENT_GONE or evicted); its close listener removes us
                lock.lock();
                try {
                    draining = false;
                } finally {
                    lock.unlock();
                }
                return;
            } finally {
                lastWriteAt = owner.ticker.read();
                writeStartedAt = 0;
                if (written) {
                    owner.delivered.add(batch.size()); // counted once the write is fully accounted for
                }
            }
        }
    }

    /** Marks removed and drops the queue; returns whether this call did it. */
    boolean markRemoved() {
        lock.lock();
        try {
            if (removed) {
                return false;
            }
            removed = true;
            queuedBytes = 0;
            queue.clear();
            replay = List.of();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SseConnection connection() {
        return connection;
    }

    @Override
    public List<TopicSelector> selectors() {
        return selectors;
    }

    @Override
    public long queuedBytes() {
        lock.lock();
        try {
            return queuedBytes;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void cancel() {
        owner.cancel(this);
    }
}
