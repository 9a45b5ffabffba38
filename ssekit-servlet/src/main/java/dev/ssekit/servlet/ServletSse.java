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
import java.util.concurrent.atomic.AtomicBoolean;
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
 * (a close past its grace, a write past its timeout) interrupts the threads blocked in a write and
 * completes the async context. Jetty 12 then drops the connection and releases the writer at once;
 * Tomcat 11 closes the connection at its {@code connectionTimeout} (default 60 s) at the latest, and
 * its blocking write, which swallows interrupts while it waits, may hold the writer until then. {@code close()} returns within
 * its bound on both, and the blocked writer gets an {@link IOException} when it is released.
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

    /** The transport: blocking writes on the servlet stream; the async listener reports the end. */
    private static final class ServletTransport implements SseTransport, AsyncListener {
        private final AsyncContext async;
        private final ServletOutputStream out;
        private final Optional<String> lastEventId;
        private final AtomicBoolean completed = new AtomicBoolean();
        /** Guards {@link #writers}, {@link #interrupted} and {@link #aborted}; never held across I/O. */
        private final ReentrantLock ioLock = new ReentrantLock();
        private final List<Thread> writers = new ArrayList<>(2);
        private final List<Thread> interrupted = new ArrayList<>(2);
        private boolean aborted;
        private volatile Runnable peerClosed;

        ServletTransport(AsyncContext async, ServletOutputStream out, Optional<String> lastEventId) {
            this.async = async;
            this.out = out;
            this.lastEventId = lastEventId;
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            if (completed.get()) { // onError/onTimeout completed the response: never write to it (or its recycled successor)
                throw new IOException("SSE response already completed");
            }
            Thread me = Thread.currentThread();
            ioLock.lock();
            try {
                if (aborted) {
                    throw new IOException("SSE connection aborted");
                }
                writers.add(me);
            } finally {
                ioLock.unlock();
            }
            try {
                if (BUFFER_WRITE) {
                    out.write(ByteBuffer.wrap(bytes));
                } else {
                    out.write(bytes);
                }
                out.flush();
            } catch (RuntimeException e) {
                // e.g. Jetty's CancellationException "Completed whilst write blocked" once the response was
                // completed or aborted under a blocked write: an I/O failure to the caller, cause kept
                throw new IOException("SSE write failed: " + e, e);
            } finally {
                ioLock.lock();
                try {
                    writers.remove(me);
                    if (interrupted.remove(me)) {
                        Thread.interrupted(); // the abort's interrupt, never the caller's own
                    }
                } finally {
                    ioLock.unlock();
                }
            }
        }

        // write(List) stays the default, which joins the frames: the Servlet API has no gathering
        // write, and one large write lets the container send it at once, where frames written one by
        // one go through its aggregation buffer in several network writes (Jetty: 20 % fewer
        // deliveries/s measured with bin/bench-fanout's jetty adapter)

        @Override
        public void abort() {
            ioLock.lock();
            try {
                aborted = true;
                for (Thread t : writers) {
                    interrupted.add(t);
                    t.interrupt(); // wakes a write blocked in the container (Tomcat's waits for the socket)
                }
            } finally {
                ioLock.unlock();
            }
            close();
        }

        @Override
        public void close() {
            if (completed.compareAndSet(false, true)) {
                try {
                    async.complete();
                } catch (IllegalStateException e) {
                    LOG.log(Level.DEBUG, "async context already completed: {0}", e.toString());
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
            ended();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            close(); // marks the response completed first: a send from now on fails at once
            ended();
        }

        @Override
        public void onError(AsyncEvent event) {
            close(); // marks the response completed first: a send from now on fails at once
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
