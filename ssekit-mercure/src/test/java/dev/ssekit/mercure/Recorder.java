package dev.ssekit.mercure;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A listener that records everything a subscription hears, for tests to wait on. */
final class Recorder implements SubscriptionListener {

    final LinkedBlockingQueue<ReceivedUpdate> updates = new LinkedBlockingQueue<>();
    final List<Optional<String>> opens = new CopyOnWriteArrayList<>();
    final List<IOException> errors = new CopyOnWriteArrayList<>();
    final CompletableFuture<Optional<IOException>> closed = new CompletableFuture<>();
    private final CountDownLatch opened = new CountDownLatch(1);

    @Override
    public void onOpen(Optional<String> resumedFrom) {
        opens.add(resumedFrom);
        opened.countDown();
    }

    @Override
    public void onUpdate(ReceivedUpdate update) {
        updates.add(update);
    }

    @Override
    public void onError(IOException error) {
        errors.add(error);
    }

    @Override
    public void onClosed(Optional<IOException> failure) {
        closed.complete(failure);
    }

    /** Waits until the first connection is open (the subscription is registered once the head is out). */
    Recorder awaitOpen() throws InterruptedException {
        if (!opened.await(15, TimeUnit.SECONDS)) {
            throw new AssertionError("not opened within 15 s; errors: " + errors + ", closed: " + closed);
        }
        return this;
    }

    /** The next update, or an AssertionError after {@code wait}. */
    ReceivedUpdate next(Duration wait) throws InterruptedException {
        ReceivedUpdate u = updates.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (u == null) {
            throw new AssertionError("no update within " + wait + "; errors: " + errors);
        }
        return u;
    }

    /** Takes updates until one with data {@code marker} arrives; returns those before it. */
    List<ReceivedUpdate> until(String marker, Duration wait) throws InterruptedException {
        List<ReceivedUpdate> before = new ArrayList<>();
        long end = System.nanoTime() + wait.toNanos();
        while (true) {
            ReceivedUpdate u = updates.poll(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (u == null) {
                throw new AssertionError("no marker " + marker + " within " + wait + "; got " + before + "; errors: " + errors);
            }
            if (u.data().equals(marker)) {
                return before;
            }
            before.add(u);
        }
    }
}
