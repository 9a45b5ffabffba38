package dev.ssekit;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.ssekit.spi.LastEventIds;
import dev.ssekit.spi.SseTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link SseTransport} over an exchange of the JDK's built-in HTTP server.
 *
 * <p>Abort: the server's API cannot abort an exchange, and its streams' {@code close} waits for a
 * write stuck in the kernel. But the exchange writes to a blocking {@link
 * java.nio.channels.SocketChannel}, an interruptible channel: interrupting the thread blocked in it
 * closes the channel (the TCP connection) and that thread gets {@link
 * java.nio.channels.ClosedByInterruptException}. So {@link #abort()} interrupts the threads inside
 * a write or close of this transport (they clear the interrupt status on the way out when it was
 * the abort's), or, when none is, closes the exchange on a virtual thread whose interrupt status is
 * set, so that the first write of that close closes the channel instead of waiting. Then the
 * exchange is closed, which lets the server drop the connection.
 */
final class JdkTransport implements SseTransport {

    private static final System.Logger LOG = System.getLogger(SseConnection.class.getName());

    private final HttpExchange exchange;
    private final OutputStream body;
    private final Optional<String> lastEventId;
    /** Guards {@link #inIo}, {@link #aborted} and {@link #interrupted}; never held across I/O. */
    private final ReentrantLock ioLock = new ReentrantLock();
    /** The threads inside a write or close of this transport (at most a writer and a closer). */
    private final List<Thread> inIo = new ArrayList<>(2);
    /** Threads this transport's abort interrupted and that have not cleared it yet. */
    private final List<Thread> interrupted = new ArrayList<>(2);
    private boolean aborted;

    private JdkTransport(HttpExchange exchange, OutputStream body, Optional<String> lastEventId) {
        this.exchange = exchange;
        this.body = body;
        this.lastEventId = lastEventId;
    }

    static JdkTransport start(HttpExchange exchange) throws IOException {
        Optional<String> lastEventId = lastEventId(exchange.getRequestHeaders());
        Headers h = exchange.getResponseHeaders();
        h.set("Content-Type", "text/event-stream; charset=utf-8");
        h.set("Cache-Control", "no-cache");
        h.set("X-Accel-Buffering", "no");
        if ("HTTP/1.1".equalsIgnoreCase(exchange.getProtocol())) {
            h.set("Connection", "keep-alive");
        }
        try {
            exchange.sendResponseHeaders(200, 0); // 0: unknown length, chunked on HTTP/1.1
            OutputStream body = exchange.getResponseBody();
            body.flush();
            return new JdkTransport(exchange, body, lastEventId);
        } catch (IOException | RuntimeException e) {
            exchange.close();
            throw e;
        }
    }

    static Optional<String> lastEventId(Headers headers) {
        return LastEventIds.fromHeader(headers.getFirst("Last-Event-ID"));
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        enter();
        try {
            body.write(bytes);
            body.flush();
        } catch (IOException e) {
            throw failed(e);
        } finally {
            leave();
        }
    }

    @Override
    public void write(List<byte[]> frames) throws IOException {
        enter();
        try {
            for (byte[] f : frames) {
                body.write(f); // the response stream buffers: one chunk, one flush, no joined copy
            }
            body.flush();
        } catch (IOException e) {
            throw failed(e);
        } finally {
            leave();
        }
    }

    private IOException failed(IOException e) {
        ioLock.lock();
        try {
            return aborted ? new IOException("SSE connection aborted", e) : e;
        } finally {
            ioLock.unlock();
        }
    }

    /** Registers the calling thread as inside I/O (an abort interrupts it); fails if aborted already. */
    private void enter() throws IOException {
        ioLock.lock();
        try {
            if (aborted) {
                throw new IOException("SSE connection aborted");
            }
            inIo.add(Thread.currentThread());
        } finally {
            ioLock.unlock();
        }
    }

    /**
     * Leaves I/O: clears the interrupt status when the abort interrupted this thread (an interrupt of
     * the caller's own that was pending by then is cleared with it; a thread the abort did not
     * interrupt keeps its status).
     */
    private void leave() {
        Thread me = Thread.currentThread();
        boolean closeExchange;
        ioLock.lock();
        try {
            inIo.remove(me);
            if (interrupted.remove(me)) {
                Thread.interrupted();
            }
            closeExchange = aborted && inIo.isEmpty();
        } finally {
            ioLock.unlock();
        }
        if (closeExchange) {
            exchange.close(); // the channel is closed: this only lets the server drop the connection
        }
    }

    @Override
    public void close() {
        try {
            enter();
        } catch (IOException aborted) {
            return;
        }
        try {
            body.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing SSE response: {0}", e.toString());
        } finally {
            leave();
        }
        exchange.close();
    }

    @Override
    public void abort() {
        List<Thread> blocked;
        ioLock.lock();
        try {
            if (aborted) {
                return;
            }
            aborted = true;
            blocked = List.copyOf(inIo);
            for (Thread t : blocked) {
                interrupted.add(t);
                t.interrupt(); // closes the channel if t is in (or enters) a channel operation
            }
        } finally {
            ioLock.unlock();
        }
        if (blocked.isEmpty()) {
            // nobody to interrupt: a close of our own, interrupted before it starts, closes the channel
            // at its first write instead of writing the end of the response (which could wait for ever)
            Thread.ofVirtual().name("ssekit-jdk-abort").start(() -> {
                Thread.currentThread().interrupt();
                try {
                    exchange.close();
                } finally {
                    Thread.interrupted();
                }
            });
        }
    }

    @Override
    public Optional<String> lastEventId() {
        return lastEventId;
    }
}
