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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
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
 */
final class Outbox implements Runnable {

    private static final Map<EventLoop, Outbox> BY_LOOP = new ConcurrentHashMap<>();

    private record Entry(Channel channel, Supplier<List<byte[]>> source, Consumer<IOException> done) {
    }

    /** Channels written per run before the loop gets a turn at its other work. */
    private static final int MAX_WRITES_PER_RUN = 512;

    private final EventLoop loop;
    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
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
        if (scheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException stopped) {
                // the event loop has shut down (the server closed): its channels are gone
                scheduled.set(false);
                Entry e;
                while ((e = queue.poll()) != null) {
                    e.done.accept(new IOException("the Netty event loop has shut down", stopped));
                }
            }
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
            // more than one run's worth: yield, so the loop's other work (reading requests, answering
            // publishers) goes between two slices of a fan-out to thousands of channels, not after all of it
            if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        } finally {
            for (ByteBuf b : shared.values()) {
                b.release(); // the channels hold their own references until written
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
