package dev.ssekit;

import dev.ssekit.codec.SseEncoder;
import dev.ssekit.spi.SseTransport;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The one connection state machine: OPEN until the first of {@link #close()}, a failed write or a
 * write timeout, then CLOSED for good. Writes are serialized by a {@link ReentrantLock} (not a
 * monitor, so a virtual thread that blocks in a write does not pin its carrier).
 *
 * <p>Bounds (issue #31): a {@code send}/{@code comment} that the socket does not take within the
 * write timeout aborts the transport ({@link CloseReason#WRITE_TIMEOUT}), which releases the writer
 * with an {@link IOException}; {@link #close()} waits at most the close grace for the lock and the
 * final event and at most the close grace again for the graceful end, and aborts the transport when
 * either runs out. The deadlines run on {@link WriteWatchdog}'s one thread.
 */
final class StreamConnection implements SseConnection {

    private static final System.Logger LOG = System.getLogger(SseConnection.class.getName());
    private static final byte[] CLOSE_EVENT =
            SseMessage.builder().event("close").data("Closing the connection").build().encode();
    private static final int END_NONE = 0;
    private static final int END_GRACEFUL = 1;
    private static final int END_ABORTED = 2;
    private static final VarHandle REASON;
    private static final VarHandle CLOSING;
    private static final VarHandle END;
    private static final VarHandle FIRED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            REASON = lookup.findVarHandle(StreamConnection.class, "reason", CloseReason.class);
            CLOSING = lookup.findVarHandle(StreamConnection.class, "closing", boolean.class);
            END = lookup.findVarHandle(StreamConnection.class, "end", int.class);
            FIRED = lookup.findVarHandle(Listener.class, "fired", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SseTransport transport;
    private final SseOptions options;
    private final long writeTimeoutNanos;
    private final long closeGraceNanos;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Null while OPEN; set once (by CAS through {@link #REASON}: no AtomicReference per connection). */
    private volatile CloseReason reason;
    /** Set once {@link #close()} started: later writes fail at once, even before the state is CLOSED. */
    private volatile boolean closing;
    /** How the transport was ended: {@link #END_NONE}, then graceful and/or aborted (through {@link #END}). */
    private volatile int end;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    StreamConnection(SseTransport transport, SseOptions options) {
        this.transport = transport;
        this.options = options;
        this.writeTimeoutNanos = saturatedNanos(options.writeTimeout());
        this.closeGraceNanos = saturatedNanos(options.closeGrace());
        transport.onPeerClosed(() -> {
            if (closeWith(CloseReason.CLIENT_GONE)) {
                LOG.log(Level.DEBUG, "SSE client gone (closed by the peer)");
            }
        });
    }

    /** {@code d} in nanoseconds, or {@link Long#MAX_VALUE} past what a long holds (about 292 years: "never"). */
    private static long saturatedNanos(java.time.Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    @Override
    public void send(SseMessage message) throws IOException {
        write(List.of(Objects.requireNonNull(message, "message").encode()), true);
    }

    @Override
    public void comment(String text) throws IOException {
        write(List.of(SseEncoder.comment(Objects.requireNonNull(text, "text"))), true);
    }

    /**
     * Writes the broadcaster's queued frames, shared arrays, in one (gathering) write. Not bounded
     * here: the broadcaster's liveness sweep evicts a write that runs past its own write timeout.
     */
    void writeFrames(List<byte[]> frames) throws IOException {
        write(frames, false);
    }

    private IOException closedException() {
        CloseReason r = reason;
        return new IOException("SSE connection is closed (" + (r == null ? "closing" : r) + ")");
    }

    private void write(List<byte[]> frames, boolean timed) throws IOException {
        if (reason != null || closing) {
            throw closedException();
        }
        if (timed && Thread.currentThread().isInterrupted()) {
            // the application's interrupt, not a failure of the connection: writing now would only let the
            // server's socket channel close itself (an interruptible channel) or make the container drop it
            throw new InterruptedIOException("SSE send not started: the calling thread is interrupted"
                    + " (its interrupt status is kept; the connection stays open)");
        }
        writeLock.lock();
        try {
            if (reason != null || closing) {
                throw closedException();
            }
            Future<?> deadline = timed ? WriteWatchdog.after(writeTimeoutNanos, this::writeTimedOut) : null;
            try {
                if (frames.size() == 1) {
                    transport.write(frames.getFirst());
                } else {
                    transport.write(frames);
                }
                if (end == END_ABORTED) { // aborted under the write, which the container let return: not delivered
                    throw new IOException("SSE connection aborted during the write (" + reason + ")");
                }
            } catch (IOException e) {
                if (reason == CloseReason.WRITE_TIMEOUT) {
                    throw new IOException("SSE write not taken by the socket within writeTimeout "
                            + options.writeTimeout() + "; the connection was aborted", e);
                }
                if (closing) { // close() aborted this write when its grace ran out; it sets the reason
                    throw new IOException("SSE connection closed while this write was blocked; the connection was aborted", e);
                }
                if (timed && end != END_ABORTED && interruptedWrite(e)) {
                    // the application interrupted this thread while it was blocked in the send: the connection
                    // ends (the event may be cut) by the application's doing, not the client's
                    if (finish(CloseReason.CLOSED, false)) {
                        LOG.log(Level.DEBUG, "SSE send interrupted by the application: connection aborted ({0})", e.toString());
                    }
                    Thread.currentThread().interrupt();
                    InterruptedIOException interrupted =
                            new InterruptedIOException("SSE send interrupted; the connection was aborted");
                    interrupted.initCause(e);
                    throw interrupted;
                }
                if (closeWith(CloseReason.CLIENT_GONE)) {
                    LOG.log(Level.DEBUG, "SSE client gone: {0}", e.toString());
                }
                throw e;
            } finally {
                if (deadline != null) {
                    deadline.cancel(false);
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Whether a failed write failed because its thread was interrupted: the status is still set (the
     * JDK's interruptible channels keep it) or the server said so ({@link ClosedByInterruptException},
     * Jetty's {@link InterruptedIOException} around an {@link InterruptedException}). A socket timeout
     * is an {@link InterruptedIOException} too, and is not one.
     */
    private static boolean interruptedWrite(IOException e) {
        if (Thread.currentThread().isInterrupted() || e instanceof ClosedByInterruptException) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException
                    || (t instanceof InterruptedIOException && !(t instanceof java.net.SocketTimeoutException))) {
                return true;
            }
        }
        return false;
    }

    /** On the watchdog thread: a timed write ran out of time. Aborts now, tells the listeners on a virtual thread. */
    private void writeTimedOut() {
        if (REASON.compareAndSet(this, null, CloseReason.WRITE_TIMEOUT)) {
            LOG.log(Level.DEBUG, "SSE write not taken within {0}: aborting the connection", options.writeTimeout());
            try {
                abortTransport();
            } finally { // the listeners learn of the close even if the transport's abort throws
                Thread.ofVirtual().name("ssekit-write-timeout").start(() -> fire(CloseReason.WRITE_TIMEOUT));
            }
        } else {
            abortTransport();
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
        if (reason != null || !CLOSING.compareAndSet(this, false, true)) {
            return;
        }
        // a caller's interrupt status (a handler closing in a finally after it was interrupted) is its own:
        // set, it would fail the lock wait and the channel writes, and turn this graceful close into an abort.
        // Cleared here (the close is bounded by the grace anyway) and set again on the way out.
        boolean callerInterrupted = Thread.interrupted();
        try {
            closeBounded();
        } finally {
            if (callerInterrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeBounded() {
        // one deadline for the lock and the close event: a stuck write (ours or another thread's) is aborted
        Future<?> deadline = WriteWatchdog.after(closeGraceNanos, this::abortTransport);
        boolean locked = false;
        try {
            try {
                locked = writeLock.tryLock(closeGraceNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!locked) {
                finish(CloseReason.CLOSED, false); // another write holds on: abort, which releases it
                return;
            }
            if (reason != null) {
                return;
            }
            try {
                if (options.closeEvent()) {
                    transport.write(CLOSE_EVENT);
                }
            } catch (IOException e) {
                if (end == END_ABORTED) {
                    LOG.log(Level.DEBUG, "SSE close event not written within {0}: aborted", options.closeGrace());
                    finish(CloseReason.CLOSED, false);
                } else if (finish(CloseReason.CLIENT_GONE, false)) {
                    LOG.log(Level.DEBUG, "SSE client gone before the close event: {0}", e.toString());
                }
                return;
            }
            deadline.cancel(false);
            finish(CloseReason.CLOSED, true);
        } finally {
            deadline.cancel(false);
            if (locked) {
                writeLock.unlock();
            }
        }
    }

    /**
     * Moves to CLOSED if still OPEN, without the close event; returns whether this call did it.
     * Listeners run first (the state is CLOSED from the CAS on), then the transport is ended on the
     * calling thread: gracefully for {@link CloseReason#CLOSED} and {@link CloseReason#SHUTDOWN}
     * (aborted if that takes longer than the close grace), aborted otherwise.
     */
    boolean closeWith(CloseReason r) {
        if (r == CloseReason.CLIENT_GONE && closing) {
            return false; // close() is under way and sets the reason itself (its own abort fails writes too)
        }
        return finish(r, r == CloseReason.CLOSED || r == CloseReason.SHUTDOWN);
    }

    private boolean finish(CloseReason r, boolean graceful) {
        if (!REASON.compareAndSet(this, null, r)) {
            return false;
        }
        fire(r);
        if (graceful) {
            endGracefully();
        } else {
            abortTransport();
        }
        return true;
    }

    private void fire(CloseReason r) {
        for (Listener l : listeners) {
            l.fire(r);
        }
    }

    /** Ends the response gracefully, once; aborts it if that takes longer than the close grace. */
    private void endGracefully() {
        if (!END.compareAndSet(this, END_NONE, END_GRACEFUL)) {
            return;
        }
        Future<?> deadline = WriteWatchdog.after(closeGraceNanos, this::abortTransport);
        try {
            transport.close();
        } finally {
            deadline.cancel(false);
        }
    }

    /** Aborts the transport, once, also after (or during) a graceful end. Never blocks. */
    private void abortTransport() {
        int e = end;
        while (e != END_ABORTED) {
            if (END.compareAndSet(this, e, END_ABORTED)) {
                transport.abort();
                return;
            }
            e = end;
        }
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
