package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.spi.SseTransport;
import java.io.ByteArrayOutputStream;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * An in-memory connection's transport for protocol tests: keeps what is written and waits for it
 * without sleeping (the test class's timeout bounds every wait). Thread-safe.
 */
final class BufferTransport implements SseTransport {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Executor deliveryExecutor;
    private boolean closed;

    BufferTransport() {
        this(null);
    }

    /** A transport whose broadcaster delivers on {@code deliveryExecutor} (as Netty's on its event loop). */
    BufferTransport(Executor deliveryExecutor) {
        this.deliveryExecutor = deliveryExecutor;
    }

    @Override
    public Executor deliveryExecutor() {
        return deliveryExecutor;
    }

    @Override
    public synchronized void write(byte[] bytes) {
        out.writeBytes(bytes);
        notifyAll();
    }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }

    @Override
    public Optional<String> lastEventId() {
        return Optional.empty();
    }

    synchronized String text() {
        return out.toString(UTF_8);
    }

    /** Waits until the written text contains {@code s}; returns all the text. */
    synchronized String await(String s) throws InterruptedException {
        return await(text -> text.contains(s) ? text : null);
    }

    /** Waits until {@code read} finds what it wants in the written text (a non-null answer), and returns it. */
    synchronized <T> T await(Function<String, T> read) throws InterruptedException {
        for (T found; ; wait()) {
            found = read.apply(out.toString(UTF_8));
            if (found != null) {
                return found;
            }
        }
    }

    synchronized void awaitClosed() throws InterruptedException {
        while (!closed) {
            wait();
        }
    }
}
