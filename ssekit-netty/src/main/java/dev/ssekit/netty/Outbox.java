package dev.ssekit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Per-event-loop batching of SSE writes: writes from any thread are queued for their channel's
 * event loop, and one task on that loop writes all that is queued, then flushes each touched
 * channel once. A broadcast to 10,000 subscribers thus costs one task per event loop (not one per
 * subscriber) and one flush, one system call, per subscriber.
 *
 * <p>The frames of a broadcast are the same arrays for every subscriber, in the same order: a run
 * copies each distinct sequence of frames once into a direct buffer and every channel with that
 * sequence writes a reference-counted duplicate of it (Netty's {@code ChannelGroup} model): one
 * buffer, one chunk (framed once, for every HTTP/1.1 stream of the loop), one write per
 * subscriber, however many events it holds. The run releases its
 * own references at its end; each buffer is freed when the last channel has written it.
 *
 * <p>A run writes at most 64 channels, then lets the loop do its I/O before the next slice; the
 * broadcaster's delivery group for the loop takes its turns through {@link #execute}, each after
 * the writes of the one before. Thread-safe: {@link #write} and {@link #execute} from any thread,
 * {@link #run} on the loop.
 */
final class Outbox implements Runnable, Executor {

    private static final System.Logger LOG = System.getLogger(Outbox.class.getName());
    private static final Map<EventLoop, Outbox> BY_LOOP = new ConcurrentHashMap<>();

    private record Entry(Channel channel, Supplier<List<byte[]>> source, Consumer<IOException> done) {
    }

    /** A delivery group's turn, due once the writes queued before it ({@code after} of them) are taken. */
    private record Turn(Runnable task, long after) {
    }

    /**
     * Channels written per run before the loop gets a turn at its other work. Small: a request on
     * the loop (a hub's POST) waits up to a slice to be read and another for its answer to be sent,
     * and on a busy machine a slice of 512 writes took tens of milliseconds; an I/O pass between
     * slices costs one non-blocking poll (BENCHMARKS.md, "The hub's POST round trip").
     */
    private static final int MAX_WRITES_PER_RUN = 64;
    /** Delivery turns taken per run (a turn that queues no write is due again at once). */
    private static final int MAX_TURNS_PER_RUN = 16;

    private final EventLoop loop;
    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Turn> turns = new ConcurrentLinkedQueue<>();
    /** Entries ever queued. */
    private final AtomicLong queued = new AtomicLong();
    /** Entries ever taken; on the loop only. */
    private long taken;
    private final AtomicBoolean scheduled = new AtomicBoolean();

    private Outbox(EventLoop loop) {
        this.loop = loop;
    }

    static Outbox of(EventLoop loop) {
        Outbox o = BY_LOOP.get(loop);
        if (o == null) {
            o = BY_LOOP.computeIfAbsent(loop, Outbox::new);
            loop.terminationFuture().addListener(f -> BY_LOOP.remove(loop));
        }
        return o;
    }

    /**
     * Queues a write for the channel; its bytes are pulled from {@code source} when the loop's task
     * runs (nothing is written, and {@code done} not called, when it returns null); {@code done}
     * runs on the event loop when they are written or failed.
     */
    void write(Channel channel, Supplier<List<byte[]>> source, Consumer<IOException> done) {
        queue.add(new Entry(channel, source, done));
        queued.incrementAndGet();
        if (scheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException stopped) {
                dropAll(stopped);
            }
        }
    }

    /**
     * The loop's delivery executor ({@link NettyTransport#deliveryExecutor()}): runs a broadcaster
     * delivery group's turn on the loop, in order, once every write queued before it has been taken.
     * A group's turn queues an event batch for up to all the loop's subscribers; its next turn waits
     * until those writes are out, so a fast publisher never fills a healthy subscriber's queue while
     * its write waits behind thousands of others, and the batch of the next turn holds all that
     * arrived meanwhile.
     *
     * @throws RejectedExecutionException if the event loop has shut down
     */
    @Override
    public void execute(Runnable task) {
        if (loop.isShuttingDown()) {
            throw new RejectedExecutionException("the Netty event loop has shut down");
        }
        turns.add(new Turn(task, queued.get()));
        if (scheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException stopped) {
                dropAll(stopped);
                throw stopped;
            }
        }
    }

    /** The event loop has shut down (the server closed): its channels are gone, so are their writes. */
    private void dropAll(RejectedExecutionException stopped) {
        scheduled.set(false);
        turns.clear(); // their groups' subscribers are this loop's channels, closing with it; later execute() throws
        Entry e;
        while ((e = queue.poll()) != null) {
            e.done.accept(new IOException("the Netty event loop has shut down", stopped));
        }
    }

    @Override
    public void run() {
        scheduled.set(false); // writes queued from now on schedule another run (or are taken by this one)
        Set<Channel> touched = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Channel> order = new ArrayList<>();
        Map<Batch, ByteBuf> shared = new HashMap<>();
        try {
            Entry e;
            int n = 0;
            while (n++ < MAX_WRITES_PER_RUN && (e = queue.poll()) != null) {
                taken++;
                Entry entry = e;
                List<byte[]> frames = entry.source.get();
                if (frames == null) {
                    continue;
                }
                ChannelPromise promise = entry.channel.newPromise();
                promise.addListener(f -> entry.done.accept(f.isSuccess() ? null
                        : new IOException("SSE write failed: " + f.cause(), f.cause())));
                if (StreamPipeline.frames(entry.channel)) {
                    entry.channel.write(content(entry.channel, frames, true, shared), promise); // a whole chunk
                } else {
                    entry.channel.write(new DefaultHttpContent(content(entry.channel, frames, false, shared)), promise);
                }
                if (touched.add(entry.channel)) {
                    order.add(entry.channel);
                }
            }
            for (Channel c : order) {
                c.flush();
            }
            runTurns();
            // more than one run's worth: yield, so the loop's I/O (reading requests, answering publishers)
            // goes between two slices of a fan-out to thousands of channels, not after all of it. Not
            // execute(): a Netty 4.2 loop runs the tasks queued meanwhile in the same turn (up to its
            // task quantum, a second) before it reads again; a task scheduled now runs after the loop's
            // next I/O pass.
            if ((!queue.isEmpty() || !turns.isEmpty()) && scheduled.compareAndSet(false, true)) {
                try {
                    if (loop.isShuttingDown()) {
                        loop.execute(this); // a stopping loop cancels scheduled tasks but still runs these
                    } else {
                        loop.schedule(this, 0, TimeUnit.NANOSECONDS);
                    }
                } catch (RejectedExecutionException stopped) {
                    dropAll(stopped);
                }
            }
        } finally {
            for (ByteBuf b : shared.values()) {
                b.release(); // the channels hold their own references until written
            }
        }
    }

    /** Runs the delivery turns whose writes before them are all taken (they may queue more writes). */
    private void runTurns() {
        Turn t;
        for (int n = 0; n < MAX_TURNS_PER_RUN && (t = turns.peek()) != null && t.after <= taken; n++) {
            turns.poll();
            try {
                t.task.run();
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.ERROR, "an SSE delivery turn failed", ex);
            }
        }
    }

    /**
     * The frames as one buffer: a duplicate of this run's direct copy of exactly this sequence of
     * frames, framed as a chunk for a stream that {@link StreamPipeline} frames, bare otherwise.
     * Subscribers of one broadcast get the same arrays in the same order, so one copy of a batch
     * serves every channel of the loop that has that batch: each writes it in one piece.
     */
    private static ByteBuf content(Channel channel, List<byte[]> frames, boolean chunk, Map<Batch, ByteBuf> shared) {
        Batch key = new Batch(frames, chunk);
        ByteBuf b = shared.get(key);
        if (b == null) {
            int length = 0;
            for (byte[] f : frames) {
                length += f.length;
            }
            if (chunk) {
                b = StreamPipeline.chunk(channel.alloc(), frames, length);
            } else {
                b = channel.alloc().directBuffer(length, length);
                for (byte[] f : frames) {
                    b.writeBytes(f);
                }
            }
            shared.put(key, b);
        }
        return b.retainedDuplicate();
    }

    /** A sequence of frames compared by the identity of its arrays (they are shared, never modified). */
    private static final class Batch {
        private final List<byte[]> frames;
        private final boolean chunk;
        private final int hash;

        Batch(List<byte[]> frames, boolean chunk) {
            this.frames = frames;
            this.chunk = chunk;
            int h = frames.size() * 2 + (chunk ? 1 : 0);
            for (byte[] f : frames) {
                h = 31 * h + System.identityHashCode(f);
            }
            this.hash = h;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Batch other) || other.hash != hash || other.chunk != chunk
                    || other.frames.size() != frames.size()) {
                return false;
            }
            for (int i = 0; i < frames.size(); i++) {
                if (other.frames.get(i) != frames.get(i)) {
                    return false;
                }
            }
            return true;
        }
    }
}
