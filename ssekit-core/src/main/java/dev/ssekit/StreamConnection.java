package dev.ssekit;

import dev.ssekit.codec.SseEncoder;
import dev.ssekit.spi.SseTransport;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The one connection state machine: OPEN until the first of {@link #close()} or a failed write,
 * then CLOSED for good. Writes are serialized by a {@link ReentrantLock} (not a monitor, so a
 * virtual thread that blocks in a write does not pin its carrier).
 */
final class StreamConnection implements SseConnection {

    private static final System.Logger LOG = System.getLogger(SseConnection.class.getName());
    private static final byte[] CLOSE_EVENT =
            SseMessage.builder().event("close").data("Closing the connection").build().encode();
    private static final long CLOSE_LOCK_WAIT_MILLIS = 1000;
    private static final VarHandle REASON;
    private static final VarHandle FIRED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            REASON = lookup.findVarHandle(StreamConnection.class, "reason", CloseReason.class);
            FIRED = lookup.findVarHandle(Listener.class, "fired", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SseTransport transport;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Null while OPEN; set once (by CAS through {@link #REASON}: no AtomicReference per connection). */
    private volatile CloseReason reason;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    StreamConnection(SseTransport transport) {
        this.transport = transport;
        transport.onPeerClosed(() -> {
            if (closeWith(CloseReason.CLIENT_GONE)) {
                LOG.log(Level.DEBUG, "SSE client gone (closed by the peer)");
            }
        });
    }

    @Override
    public void send(SseMessage message) throws IOException {
        writeBytes(Objects.requireNonNull(message, "message").encode());
    }

    @Override
    public void comment(String text) throws IOException {
        writeBytes(SseEncoder.comment(Objects.requireNonNull(text, "text")));
    }

    /** Writes encoded bytes whole ({@code send} and {@code comment} encode first). */
    void writeBytes(byte[] bytes) throws IOException {
        writeFrames(List.of(bytes));
    }

    /** Writes the broadcaster's queued frames, shared arrays, in one (gathering) write. */
    void writeFrames(List<byte[]> frames) throws IOException {
        writeLock.lock();
        try {
            CloseReason r = reason;
            if (r != null) {
                throw new IOException("SSE connection is closed (" + r + ")");
            }
            if (frames.size() == 1) {
                transport.write(frames.getFirst());
            } else {
                transport.write(frames);
            }
        } catch (IOException e) {
            if (closeWith(CloseReason.CLIENT_GONE)) {
                LOG.log(Level.DEBUG, "SSE client gone: {0}", e.toString());
            }
            throw e;
        } finally {
            writeLock.unlock();
        }
    }

    /** The transport's I/O executor, or null (see {@link SseTransport#deliveryExecutor()}). */
    Executor deliveryExecutor() {
        return transport.deliveryExecutor();
    }

    /** Whether the transport writes without blocking (see {@link SseTransport#writeAsync}). */
    boolean asyncWrites() {
        return transport.supportsAsyncWrite();
    }

    /**
     * The broadcaster's non-blocking path: the transport pulls the frames from {@code source} when it
     * is about to write, and {@code done} runs when they are written (with null) or failed. A failure closes the connection ({@link CloseReason#CLIENT_GONE}) on a
     * virtual thread, since {@code done} may run on an event loop and close listeners are user code.
     */
    void writeFramesAsync(Supplier<List<byte[]>> source, Consumer<IOException> done) {
        CloseReason r = reason;
        if (r != null) {
            done.accept(new IOException("SSE connection is closed (" + r + ")"));
            return;
        }
        transport.writeAsync(source, error -> {
            if (error != null && reason == null) {
                Thread.ofVirtual().name("ssekit-closed").start(() -> {
                    if (closeWith(CloseReason.CLIENT_GONE)) {
                        LOG.log(Level.DEBUG, "SSE client gone: {0}", error.toString());
                    }
                });
            }
            done.accept(error);
        });
    }

    @Override
    public void close() {
        if (reason != null) {
            return;
        }
        boolean locked = false;
        try {
            locked = writeLock.tryLock(CLOSE_LOCK_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (locked && reason == null) {
                try {
                    transport.write(CLOSE_EVENT);
                } catch (IOException e) {
                    if (closeWith(CloseReason.CLIENT_GONE)) {
                        LOG.log(Level.DEBUG, "SSE client gone before the close event: {0}", e.toString());
                    }
                    return;
                }
            }
            closeWith(CloseReason.CLOSED);
        } finally {
            if (locked) {
                writeLock.unlock();
            }
        }
    }

    /**
     * Moves to CLOSED if still OPEN, without the close event; returns whether this call did it.
     * Listeners run first (the state is CLOSED from the CAS on), then the transport is closed on
     * the calling thread: that may block behind a stuck write, which must not delay the news.
     */
    boolean closeWith(CloseReason r) {
        if (!REASON.compareAndSet(this, null, r)) {
            return false;
        }
        for (Listener l : listeners) {
            l.fire(r);
        }
        if (r == CloseReason.CLOSED || r == CloseReason.SHUTDOWN) {
            transport.close(); // a graceful end of the response
        } else {
            transport.abort(); // gone or evicted: a graceful end could wait behind a stuck write
        }
        return true;
    }

    @Override
    public boolean isOpen() {
        return reason == null;
    }

    @Override
    public void onClose(Consumer<CloseReason> listener) {
        Listener l = new Listener(Objects.requireNonNull(listener, "listener"));
        listeners.add(l);
        CloseReason r = reason;
        if (r != null) {
            l.fire(r); // closed before or while we registered: fire (once) ourselves
        }
    }

    @Override
    public Optional<String> lastEventId() {
        return transport.lastEventId();
    }

    @Override
    public String toString() {
        CloseReason r = reason;
        return "SseConnection[" + (r == null ? "OPEN" : "CLOSED " + r) + "]";
    }

    private static final class Listener {
        private final Consumer<CloseReason> callback;
        private volatile boolean fired; // set once, through FIRED

        Listener(Consumer<CloseReason> callback) {
            this.callback = callback;
        }

        void fire(CloseReason r) {
            if (FIRED.compareAndSet(this, false, true)) {
                try {
                    callback.accept(r);
                } catch (RuntimeException | Error e) {
                    LOG.log(Level.WARNING, "SSE close listener threw; ignored", e);
                }
            }
        }
    }
}
