package dev.ssekit.servlet;

import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import dev.ssekit.spi.LastEventIds;
import dev.ssekit.spi.SseTransport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * SSE over an async Jakarta Servlet 6 request (Jetty 12, Tomcat 11, Spring MVC):
 *
 * <pre>{@code
 * protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
 *     SseConnection conn = ServletSse.start(req, resp);
 *     hub.subscribe(conn, "news");          // or send from any thread
 * }
 * }</pre>
 *
 * <p>The servlet must support async ({@code asyncSupported = true}). The container's async timeout
 * is turned off: a stream lasts until it is closed. Writes block on the calling thread (use virtual
 * threads); write errors, and the async listener's error, timeout and complete events, all lead to
 * exactly one close ({@link dev.ssekit.CloseReason#CLIENT_GONE} unless the application closed
 * first). An exception the container throws from a write (Jetty's {@code CancellationException}
 * "Completed whilst write blocked") reaches the caller as an {@link IOException} with it as the
 * cause.
 *
 * <p>Bounds ({@link dev.ssekit.SseOptions}): the Servlet API cannot abort a connection, so an abort
 * (a close past its grace, a write past its timeout) makes the container fail the write: it
 * interrupts the threads blocked in a write until the container gives them up (Tomcat 11: its
 * socket write fails on an interrupted thread, and Tomcat then drops the connection at once) and
 * completes the async context (Jetty 12 then drops the connection and releases the writer). On both,
 * {@code close()} returns within its bound, the blocked writer gets an {@link IOException} and the
 * TCP connection is closed (an HTTP/2 stream reset on Jetty) at the abort, long before the
 * container's own timeouts: on Tomcat, with a 1 s close grace, the client saw the end 1.10-1.25 s
 * after {@code close()} began (RELIABILITY.md). One thread per web application does the
 * interrupting for every connection that aborts (started when needed, gone when none is left), so
 * many clients timing out together cost one thread, not one each. The abort interrupts only threads
 * inside a write of this connection, and clears the interrupt status of each thread it interrupted
 * before its write returns (which fails with an {@link IOException}). An interrupt of the
 * application's own that is pending on such a thread, or arrives while the abort interrupts it,
 * cannot be told apart from the abort's and is cleared with it; a writer the abort did not
 * interrupt keeps its interrupt status.
 */
public final class ServletSse {

    private static final System.Logger LOG = System.getLogger(ServletSse.class.getName());

    private ServletSse() {
    }

    /**
     * Starts an event stream: async mode with no timeout, {@code 200}, {@code text/event-stream;
     * charset=utf-8}, {@code Cache-Control: no-cache}, {@code X-Accel-Buffering: no}, flushed at
     * once.
     *
     * @param request the request; async must be supported
     * @param response its response, not committed yet
     * @return the open connection; usable from any thread after the servlet method returns
     * @throws IOException if the response head cannot be sent
     * @throws IllegalStateException if the request does not support async, or the response is
     *     committed
     */
    public static SseConnection start(HttpServletRequest request, HttpServletResponse response) throws IOException {
        return start(request, response, SseOptions.defaults());
    }

    /**
     * {@link #start(HttpServletRequest, HttpServletResponse)} with settings of its own: the write
     * timeout of {@code send} and {@code comment} (default 30 s) and the close grace (default 1 s).
     *
     * @param request the request; async must be supported
     * @param response its response, not committed yet
     * @param options the connection's settings
     * @return the open connection; usable from any thread after the servlet method returns
     * @throws IOException if the response head cannot be sent
     * @throws IllegalStateException if the request does not support async, or the response is
     *     committed
     * @throws NullPointerException if an argument is null
     */
    public static SseConnection start(HttpServletRequest request, HttpServletResponse response, SseOptions options)
            throws IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(response, "response");
        Objects.requireNonNull(options, "options");
        if (!request.isAsyncSupported()) {
            throw new IllegalStateException("the servlet must support async for SSE (asyncSupported = true)");
        }
        if (response.isCommitted()) {
            throw new IllegalStateException("the response is already committed");
        }
        AsyncContext async = request.isAsyncStarted() ? request.getAsyncContext() : request.startAsync(request, response);
        async.setTimeout(0);
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("text/event-stream; charset=utf-8");
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("X-Accel-Buffering", "no");
        ServletOutputStream out = response.getOutputStream();
        response.flushBuffer();
        ServletTransport transport = new ServletTransport(async, out, lastEventId(request));
        async.addListener(transport);
        return Sse.open(transport, options);
    }

    static Optional<String> lastEventId(HttpServletRequest request) {
        return LastEventIds.fromHeader(request.getHeader("Last-Event-ID"));
    }

    /**
     * Whether the container's API has Servlet 6.1's {@code ServletOutputStream.write(ByteBuffer)}.
     * Jetty copies a byte array smaller than its buffer into a pooled aggregation buffer before it
     * writes it (with 10,000 subscribers the pool allocated and zeroed a fresh 32 KB direct buffer
     * for most writes: 11 % of the server's CPU, a p99 of 3-4 s at 20 events/s in {@code
     * bin/bench-peers} (b)); a buffer goes to the connection as it is. Servlet 6.0 containers
     * (Tomcat 10.1) have no such method: they get the array.
     */
    private static final boolean BUFFER_WRITE = hasBufferWrite();

    private static boolean hasBufferWrite() {
        try {
            ServletOutputStream.class.getMethod("write", ByteBuffer.class);
            return true;
        } catch (NoSuchMethodException servlet60) {
            return false;
        }
    }

    /**
     * The transport: blocking writes on the servlet stream; the async listener reports the end.
     *
     * <p>The abort. The Servlet API has none, so the transport makes the container abort through its
     * own write-failure path: a write that fails with an {@link IOException} makes Tomcat 11 drop the
     * connection at once ({@code ErrorState.CLOSE_CONNECTION_NOW}), and Tomcat's socket write fails
     * with one when the writing thread's interrupt status is set ({@code NioChannel} checks it before
     * every write). Its blocking write, though, waits for the socket in {@code Object.wait}, swallows
     * an interrupt that lands there, and waits again. So {@link #abort()} hands the transport to the
     * one {@link AbortInterrupter} thread, which interrupts the threads blocked in a write of each
     * aborted transport, again while such a thread runs after a swallowed interrupt, until one
     * interrupt lands outside the wait and the write fails, then completes the async context. With no
     * write under way, or when the released write returned without failing, the output is ended on a
     * thread of its own whose interrupt status is set (on Tomcat: a socket write that fails at once),
     * then the async context is completed. Containers whose blocked write ends only when the response
     * completes (Jetty 12 gave its write up on the interrupt in every run, with {@code
     * InterruptedIOException}) get the completion after {@link #COMPLETE_AFTER_NANOS} at the latest.
     * If the interrupter thread cannot be started, the abort completes the async context at once and
     * logs a warning: the blocked write then ends at the container's own timeout.
     *
     * <p>The graceful end, {@link #close()}, ends the output on the calling thread, as a write the
     * abort can release, before it completes the async context: the container never blocks one of
     * its own threads on the last chunk to a stuck client. Core does not serialize {@code close()}
     * with a broadcaster's delivery, and a servlet output stream is not thread-safe: {@code close()}
     * waits until a write under way has left the stream (core aborts the transport when that takes
     * longer than the close grace, which releases the write and ends the wait), and no write enters
     * once the end began.
     */
    private static final class ServletTransport implements SseTransport, AsyncListener, AbortInterrupter.Target {
        /**
         * How long the abort interrupts blocked writers before it completes the response anyway, for a
         * container whose blocked write ignores interrupts and ends only when the response completes.
         * Not sooner: on Tomcat a completion under a blocked write lets the write return as if it had
         * succeeded and leaves the last chunk to a container thread that blocks until {@code
         * connectionTimeout} (seen when this was 100 ms, on 2 cores with a load average above 20).
         * Jetty 12 and Tomcat 11 give the write up on the interrupts.
         */
        private static final long COMPLETE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(2);
        /** How long the abort keeps interrupting a writer the container does not let go (then it logs and stops). */
        private static final long RELEASE_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(10);

        private final AsyncContext async;
        private final ServletOutputStream out;
        private final Optional<String> lastEventId;
        /** Set by the first end (close, abort, the container's events): no write starts after it. */
        private final AtomicBoolean completed = new AtomicBoolean();
        private final AtomicBoolean asyncCompleted = new AtomicBoolean();
        /** Guards {@link #writers}, {@link #interrupted}, {@link #aborted} and {@link #ending}; never held across I/O. */
        private final ReentrantLock ioLock = new ReentrantLock();
        /** Signalled when the last writer leaves and at the abort: {@link #close()} waits on it. */
        private final Condition writerLeft = ioLock.newCondition();
        private final List<Thread> writers = new ArrayList<>(2);
        private final List<Thread> interrupted = new ArrayList<>(2);
        private boolean aborted;
        /** Set when {@link #close()} took the stream for the end: no write enters after it. */
        private boolean ending;
        /** When the abort began ({@link System#nanoTime()}), for the interrupter's deadlines. */
        private volatile long abortStarted;
        /** Whether a write failed in the container (the container then ends the connection itself). */
        private volatile boolean writeFailed;
        private volatile Runnable peerClosed;

        ServletTransport(AsyncContext async, ServletOutputStream out, Optional<String> lastEventId) {
            this.async = async;
            this.out = out;
            this.lastEventId = lastEventId;
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            if (completed.get()) { // the response was ended: never write to it (or its recycled successor)
                throw new IOException("SSE response already completed");
            }
            enter();
            try {
                if (BUFFER_WRITE) {
                    out.write(ByteBuffer.wrap(bytes));
                } else {
                    out.write(bytes);
                }
                out.flush();
            } catch (IOException e) {
                writeFailed = true; // the container knows: Tomcat drops the connection on a failed write
                throw e;
            } catch (RuntimeException e) {
                writeFailed = true;
                // e.g. Jetty's CancellationException "Completed whilst write blocked" once the response was
                // completed or aborted under a blocked write: an I/O failure to the caller, cause kept
                throw new IOException("SSE write failed: " + e, e);
            } finally {
                leave();
            }
        }

        /**
         * Registers the calling thread as a writer the abort may interrupt; fails once aborted or once
         * {@link #close()} took the stream.
         */
        private void enter() throws IOException {
            ioLock.lock();
            try {
                if (aborted) {
                    throw new IOException("SSE connection aborted");
                }
                if (ending) {
                    throw new IOException("SSE response already completed");
                }
                writers.add(Thread.currentThread());
            } finally {
                ioLock.unlock();
            }
        }

        /**
         * Unregisters the calling thread and clears the interrupt status if the abort interrupted it
         * (which also clears an interrupt of the application's own that was pending by then).
         */
        private void leave() {
            Thread me = Thread.currentThread();
            ioLock.lock();
            try {
                writers.remove(me);
                if (interrupted.remove(me)) {
                    Thread.interrupted();
                }
                if (writers.isEmpty()) {
                    writerLeft.signalAll();
                }
            } finally {
                ioLock.unlock();
            }
        }

        // write(List) stays the default, which joins the frames: the Servlet API has no gathering
        // write, and one large write lets the container send it at once, where frames written one by
        // one go through its aggregation buffer in several network writes (Jetty: 20 % fewer
        // deliveries/s measured with bin/bench-fanout's jetty adapter)

        @Override
        public void abort() {
            completed.set(true);
            boolean writing;
            ioLock.lock();
            try {
                if (aborted) {
                    return;
                }
                aborted = true;
                writing = !writers.isEmpty();
                writerLeft.signalAll(); // a close() waiting for a writer gives the stream up to the abort
            } finally {
                ioLock.unlock();
            }
            if (writing) {
                abortStarted = System.nanoTime();
                Throwable failed = AbortInterrupter.SHARED.submit(this);
                if (failed != null) {
                    unreleased(failed);
                }
            } else {
                endOnAThreadOfItsOwn(this::dropIdle);
            }
        }

        @Override
        public boolean poll(long now) {
            long elapsed = now - abortStarted;
            if (writersInside()) {
                if (elapsed > COMPLETE_AFTER_NANOS) {
                    completeAsync(); // a container that lets a blocked write go only when the response ends
                }
                if (elapsed > RELEASE_LIMIT_NANOS) {
                    LOG.log(Level.WARNING, "SSE abort: a write blocked in the servlet container did not give up"
                            + " within {0} s; the container ends it at its own timeout", RELEASE_LIMIT_NANOS / 1_000_000_000L);
                    return true;
                }
                return false;
            }
            LOG.log(Level.DEBUG, "SSE abort: writers released after {0} µs, failed: {1}", elapsed / 1_000, writeFailed);
            if (writeFailed) {
                // failed in the container (Tomcat: CLOSE_CONNECTION_NOW, the connection is being dropped on a
                // container thread, which may recycle the stream): the stream is the container's now
                endOnAThreadOfItsOwn(this::completeAsync);
            } else {
                // the write returned (Tomcat lets one return when the interrupt lands in some of its waits):
                // nothing failed, so nothing drops the connection yet
                endOnAThreadOfItsOwn(this::dropIdle);
            }
            return true;
        }

        private boolean writersInside() {
            ioLock.lock();
            try {
                return !writers.isEmpty();
            } finally {
                ioLock.unlock();
            }
        }

        @Override
        public void unreleased(Throwable why) {
            LOG.log(Level.WARNING, "SSE abort: the interrupter cannot run ({0}); the response is completed and a write"
                    + " blocked in the servlet container ends at the container's own timeout", why.toString());
            completeAsync();
        }

        /** Runs {@code end} (which may block on the container) on a virtual thread; on this one if none can start. */
        private static void endOnAThreadOfItsOwn(Runnable end) {
            try {
                Thread.ofVirtual().name("ssekit-servlet-end").start(end);
            } catch (OutOfMemoryError | RuntimeException e) {
                LOG.log(Level.WARNING, "SSE abort: no thread for the end of the response ({0}); ending it here", e.toString());
                end.run();
            }
        }

        /**
         * When no write was under way or the writers returned: ends the output with this thread's
         * interrupt status set (on Tomcat its socket write fails at once, which drops the connection; the
         * other containers end the response as on complete()), then completes. No writer is inside and
         * none enters: the transport is aborted.
         */
        private void dropIdle() {
            if (!asyncCompleted.get() && !writeFailed) {
                Thread.currentThread().interrupt();
                try {
                    out.close();
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, "SSE abort: output ended with {0}", e.toString());
                } finally {
                    Thread.interrupted();
                }
            }
            completeAsync();
        }

        /** Interrupts each thread inside a write once (the interrupter's rounds); returns whether any is left. */
        @Override
        public boolean interruptWriters() {
            ioLock.lock();
            try {
                for (Thread t : writers) { // under the lock: never a thread that has left this connection's write
                    if (!interrupted.contains(t)) {
                        interrupted.add(t);
                    }
                    t.interrupt();
                }
                return !writers.isEmpty();
            } finally {
                ioLock.unlock();
            }
        }

        @Override
        public void close() {
            if (!completed.compareAndSet(false, true)) {
                return;
            }
            // the last chunk on this thread, as a write the abort can release, not on a container thread; and
            // never inside the stream together with a write (a broadcaster's delivery is not serialized with it)
            ioLock.lock();
            try {
                while (!aborted && !writers.isEmpty()) {
                    writerLeft.awaitUninterruptibly(); // bounded: past the close grace core aborts, which signals
                }
                if (aborted) {
                    return; // the abort ends the response
                }
                ending = true;
                writers.add(Thread.currentThread());
            } finally {
                ioLock.unlock();
            }
            try {
                out.close();
            } catch (IOException | RuntimeException e) {
                writeFailed = true; // as in write(): the container ends the connection, the stream is its own now
                LOG.log(Level.DEBUG, "SSE response not ended cleanly: {0}", e.toString());
            } finally {
                leave();
            }
            completeAsync();
        }

        private void completeAsync() {
            if (asyncCompleted.compareAndSet(false, true)) {
                try {
                    async.complete();
                } catch (IllegalStateException e) {
                    LOG.log(Level.DEBUG, "async context already completed: {0}", e.toString());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "SSE: completing the async context failed", e);
                }
            }
        }

        @Override
        public void onPeerClosed(Runnable action) {
            this.peerClosed = action;
        }

        private void ended() {
            Runnable r = peerClosed;
            if (r != null) {
                // container threads must not run user close listeners that may block
                Thread.ofVirtual().name("ssekit-servlet-closed").start(r);
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            completed.set(true);
            asyncCompleted.set(true);
            ended();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            completed.set(true); // first: a send from now on fails at once
            completeAsync();
            ended();
        }

        @Override
        public void onError(AsyncEvent event) {
            completed.set(true); // first: a send from now on fails at once
            completeAsync();
            ended();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // re-registration is not needed: one stream per request
        }

        @Override
        public Optional<String> lastEventId() {
            return lastEventId;
        }
    }
}
