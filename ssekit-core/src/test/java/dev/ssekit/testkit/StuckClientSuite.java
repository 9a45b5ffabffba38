package dev.ssekit.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.SseOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31: a client that sends its GET and never reads (receive buffer 4096) while a handler
 * thread sends 8 KB events until the write blocks. Each transport's test extends this with a server
 * that hands its connection (started with the given options) to the test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class StuckClientSuite {

    /** A running server with one SSE path, {@link #PATH}. */
    protected interface Fixture {
        /** @return the server's loopback address */
        InetSocketAddress address();

        /**
         * Stops the server.
         *
         * @throws Exception if it cannot stop
         */
        void close() throws Exception;
    }

    /** The path the fixture serves. */
    protected static final String PATH = "/stuck";

    /** Bound asserted on {@code close()}: twice the default grace (1 s) plus a wide margin for 2 loaded cores. */
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(8);
    private static final byte[] FILL = "x".repeat(8 * 1024).getBytes(StandardCharsets.US_ASCII);

    private Fixture fixture;
    private Socket client;

    /**
     * Starts the server: each stream at {@link #PATH} is started with {@code options} and put into
     * {@code streams}; the handler then returns (the connection stays open).
     *
     * @param options the connection settings
     * @param streams where the connections go
     * @return the running server
     * @throws Exception if it cannot start
     */
    protected abstract Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception;

    /** @return the request line's protocol (HTTP/1.1 unless a subclass tests another) */
    protected String protocol() {
        return "HTTP/1.1";
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private SseConnection connectNonReading(SseOptions options) throws Exception {
        BlockingQueue<SseConnection> streams = new ArrayBlockingQueue<>(4);
        fixture = start(options, streams);
        client = new Socket();
        client.setReceiveBufferSize(4096);
        client.connect(fixture.address(), 5000);
        OutputStream out = client.getOutputStream();
        out.write(("GET " + PATH + " " + protocol() + "\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
        assertNotNull(conn, "no stream started");
        return conn;
    }

    /** A sender on a virtual thread: 8 KB events until one throws (at most 100,000). */
    private static final class Sender {
        final AtomicLong sent = new AtomicLong();
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();

        Sender(SseConnection conn) {
            Thread.ofVirtual().name("stuck-sender").start(() -> {
                try {
                    for (int i = 0; i < 100_000; i++) {
                        conn.send(SseMessage.of(new String(FILL, StandardCharsets.US_ASCII)));
                        sent.incrementAndGet();
                    }
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
        }

        /** Waits until no event was sent for 1 s on end (the send is blocked), at most 30 s. */
        void awaitBlocked() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long last = -1;
            long stillSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                assertFalse(ended.isDone(), () -> "the sender ended before it blocked: " + ended.getNow(null));
                long n = sent.get();
                if (n != last) {
                    last = n;
                    stillSince = System.nanoTime();
                } else if (n > 0 && System.nanoTime() - stillSince > TimeUnit.SECONDS.toNanos(1)) {
                    return;
                }
                Thread.sleep(50);
            }
            fail("the sender never blocked (" + sent.get() + " events sent)");
        }
    }

    /** Reads whatever the server sent until EOF or a reset; fails if neither comes within 20 s. */
    private void assertClientSeesEnd() throws IOException {
        client.setSoTimeout(500);
        InputStream in = client.getInputStream();
        byte[] buf = new byte[64 * 1024];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long read = 0;
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return; // EOF: the server closed the TCP connection
                }
                read += n;
            } catch (SocketTimeoutException idle) {
                // nothing more yet: the server still holds the connection open
            } catch (SocketException reset) {
                return; // RST
            }
        }
        fail("the TCP connection is still open 20 s after the abort (" + read + " bytes drained)");
    }

    /** {@code t} and its causes, for the test's output. */
    private static String causes(Throwable t) {
        StringBuilder b = new StringBuilder(String.valueOf(t));
        for (Throwable c = t == null ? null : t.getCause(); c != null; c = c.getCause()) {
            b.append(" <- ").append(c);
        }
        return b.toString();
    }

    /** A send on another thread: its outcome, or a failure when it does not end within 2 s. */
    private static Throwable sendOnce(SseConnection conn) throws Exception {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                conn.send(SseMessage.of("late"));
                f.complete(null);
            } catch (Throwable t) {
                f.complete(t);
            }
        });
        try {
            return f.get(2, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            fail("send() on a closed connection did not throw within 2 s: it blocks");
            return null;
        }
    }

    @Test
    void closeOfAStreamWhoseClientStoppedReadingReturnsAndAborts() throws Exception {
        SseConnection conn = connectNonReading(SseOptions.defaults());
        AtomicReference<CloseReason> reason = new AtomicReference<>();
        conn.onClose(reason::set);
        Sender sender = new Sender(conn);
        sender.awaitBlocked();

        long t0 = System.nanoTime();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(conn::close, r -> Thread.ofVirtual().start(r));
        try {
            closed.get(CLOSE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
            System.out.printf("%s: close() returned after %d ms (%d events sent before it)%n", getClass().getSimpleName(),
                    (System.nanoTime() - t0) / 1_000_000, sender.sent.get());
        } catch (java.util.concurrent.TimeoutException e) {
            fail("close() did not return within " + CLOSE_BOUND + " (" + sender.sent.get() + " events sent before it)");
        }
        assertFalse(conn.isOpen());
        assertEquals(CloseReason.CLOSED, reason.get());

        Throwable senderEnd;
        try {
            senderEnd = sender.ended.get(6, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            fail("the blocked sender was not released within 6 s of close() returning");
            return;
        }
        System.out.printf("%s: blocked sender released %d ms after close() began: %s%n", getClass().getSimpleName(),
                (System.nanoTime() - t0) / 1_000_000, causes(senderEnd));
        assertInstanceOf(IOException.class, senderEnd, "the blocked sender's exception");
        assertInstanceOf(IOException.class, sendOnce(conn), "send() after close()");
        assertClientSeesEnd();
        System.out.printf("%s: client saw the end %d ms after close() began%n", getClass().getSimpleName(),
                (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void aBlockedSendEndsAtTheWriteTimeout() throws Exception {
        SseConnection conn = connectNonReading(SseOptions.builder().writeTimeout(Duration.ofSeconds(1)).build());
        CompletableFuture<CloseReason> reason = new CompletableFuture<>();
        conn.onClose(reason::complete);
        Sender sender = new Sender(conn);
        long t0 = System.nanoTime();
        Throwable senderEnd;
        try {
            senderEnd = sender.ended.get(20, TimeUnit.SECONDS);
            System.out.printf("%s: with writeTimeout 1 s the sender ended %d ms after it started (%d events sent): %s%n",
                    getClass().getSimpleName(), (System.nanoTime() - t0) / 1_000_000, sender.sent.get(), causes(senderEnd));
        } catch (java.util.concurrent.TimeoutException e) {
            fail("a send blocked on a client that does not read did not end within 20 s (write timeout 1 s; "
                    + sender.sent.get() + " events sent)");
            return;
        }
        assertInstanceOf(IOException.class, senderEnd, "the blocked sender's exception");
        assertTrue(senderEnd.getMessage().contains("writeTimeout"), senderEnd::toString);
        assertEquals(CloseReason.WRITE_TIMEOUT, reason.get(5, TimeUnit.SECONDS));
        assertFalse(conn.isOpen());
        assertInstanceOf(IOException.class, sendOnce(conn), "send() after the timeout");
        CompletableFuture<Void> closed = CompletableFuture.runAsync(conn::close, r -> Thread.ofVirtual().start(r));
        closed.get(2, TimeUnit.SECONDS); // closing an aborted connection is a no-op
        assertClientSeesEnd();
    }
}
