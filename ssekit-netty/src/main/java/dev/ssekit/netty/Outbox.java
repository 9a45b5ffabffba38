package dev.ssekit.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
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
 */
final class Outbox implements Runnable {

    private static final Map<EventLoop, Outbox> BY_LOOP = new ConcurrentHashMap<>();

    private record Entry(Channel channel, Supplier<byte[]> source, Consumer<IOException> done) {
    }

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
    void write(Channel channel, Supplier<byte[]> source, Consumer<IOException> done) {
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
        Entry e;
        while ((e = queue.poll()) != null) {
            Entry entry = e;
            byte[] bytes = entry.source.get();
            if (bytes == null) {
                continue;
            }
            ChannelPromise promise = entry.channel.newPromise();
            promise.addListener(f -> entry.done.accept(f.isSuccess() ? null
                    : new IOException("SSE write failed: " + f.cause(), f.cause())));
            // wraps, never copies: a broadcast frame's one array serves every subscriber
            entry.channel.write(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes)), promise);
            if (touched.add(entry.channel)) {
                order.add(entry.channel);
            }
        }
        for (Channel c : order) {
            c.flush();
        }
    }
}
