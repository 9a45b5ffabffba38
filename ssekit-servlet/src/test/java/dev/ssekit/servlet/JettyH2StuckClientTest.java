package dev.ssekit.servlet;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
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
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31 over HTTP/2 on Jetty 12: an h2c client (prior knowledge, by hand) that opens one stream
 * with a 16 KiB initial window and never sends WINDOW_UPDATE, so the stream's flow-control window
 * runs out after the first events; a handler thread sends 8 KB events until the send blocks. The
 * client keeps reading frames (it acknowledges SETTINGS), so the TCP connection never fills: only
 * the stream is stuck.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JettyH2StuckClientTest {

    private static final String FILL = "x".repeat(8 * 1024);
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(8);

    private Server server;
    private Socket client;

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    /** What the client saw of stream 1: its end (RST_STREAM, END_STREAM), the connection's (GOAWAY, EOF). */
    private final BlockingQueue<String> ends = new LinkedBlockingQueue<>();
    private final AtomicLong dataBytes = new AtomicLong();

    private SseConnection connect(SseOptions options) throws Exception {
        BlockingQueue<SseConnection> streams = new ArrayBlockingQueue<>(4);
        server = new Server();
        ServerConnector connector = new ServerConnector(server, new HTTP2CServerConnectionFactory(new HttpConfiguration()));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        ServletHolder holder = new ServletHolder(new StuckServlet(options, streams));
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/stuck");
        server.setHandler(context);
        server.start();

        client = new Socket("127.0.0.1", connector.getLocalPort());
        OutputStream out = client.getOutputStream();
        synchronized (out) {
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(ISO_8859_1));
            // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 16384: the stream may receive 16 KiB, no more
            out.write(frame(4, 0, 0, new byte[] {0, 4, 0, 0, 0x40, 0}));
            out.write(frame(1, 0x5, 1, getHeaders("/stuck"))); // HEADERS, END_STREAM | END_HEADERS
            out.flush();
        }
        Thread.ofVirtual().name("h2-reader").start(this::readFrames);
        SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
        assertNotNull(conn, "no stream started");
        return conn;
    }

    /** Reads frames until EOF: acknowledges SETTINGS, counts DATA, records the ends; never WINDOW_UPDATE. */
    private void readFrames() {
        try {
            DataInputStream in = new DataInputStream(client.getInputStream());
            while (true) { // ends with the connection (EOF or the socket closed by tearDown)
                byte[] head = new byte[9];
                in.readFully(head);
                int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
                int type = head[3];
                int flags = head[4];
                int stream = (head[5] & 0x7f) << 24 | (head[6] & 0xff) << 16 | (head[7] & 0xff) << 8 | head[8] & 0xff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                if (type == 4 && (flags & 1) == 0) {
                    OutputStream out = client.getOutputStream();
                    synchronized (out) {
                        out.write(frame(4, 1, 0, new byte[0]));
                        out.flush();
                    }
                } else if (type == 0 && stream == 1) {
                    dataBytes.addAndGet(length);
                }
                if (stream == 1 && (type == 0 || type == 1) && (flags & 1) != 0) {
                    ends.add("END_STREAM");
                } else if (stream == 1 && type == 3) {
                    ends.add("RST_STREAM error " + ((payload[0] & 0xff) << 24 | (payload[1] & 0xff) << 16
                            | (payload[2] & 0xff) << 8 | payload[3] & 0xff));
                } else if (type == 7) {
                    ends.add("GOAWAY");
                }
            }
        } catch (EOFException e) {
            ends.add("EOF");
        } catch (IOException e) {
            ends.add("connection failed: " + e);
        }
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24 & 0x7f);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A GET: :method GET and :scheme http from the static table, :path and :authority as literals (no Huffman). */
    private static byte[] getHeaders(String path) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x82);
        b.write(0x86);
        b.write(4);
        b.write(path.length());
        b.writeBytes(path.getBytes(ISO_8859_1));
        b.write(1);
        b.write("127.0.0.1".length());
        b.writeBytes("127.0.0.1".getBytes(ISO_8859_1));
        return b.toByteArray();
    }

    /** 8 KB events on a virtual thread until one throws; its outcome. */
    private static CompletableFuture<Throwable> sender(SseConnection conn, AtomicLong sent) {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread.ofVirtual().name("h2-sender").start(() -> {
            try {
                for (int i = 0; i < 100_000; i++) {
                    conn.send(SseMessage.of(FILL));
                    sent.incrementAndGet();
                }
                ended.complete(null);
            } catch (Throwable t) {
                ended.complete(t);
            }
        });
        return ended;
    }

    /** Waits until no event was sent for 1 s (the send is blocked on the stream's window), at most 30 s. */
    private static void awaitBlocked(AtomicLong sent, CompletableFuture<Throwable> ended) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long last = -1;
        long stillSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            assertFalse(ended.isDone(), () -> "the sender ended before it blocked: " + ended.getNow(null));
            long n = sent.get();
            if (n != last) {
                last = n;
                stillSince = System.nanoTime();
            } else if (System.nanoTime() - stillSince > TimeUnit.SECONDS.toNanos(1)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the sender never blocked (" + sent.get() + " events sent)");
    }

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
        } catch (TimeoutException e) {
            fail("send() on a closed connection did not throw within 2 s: it blocks");
            return null;
        }
    }

    private String awaitStreamEnd() throws InterruptedException {
        String end = ends.poll(20, TimeUnit.SECONDS);
        assertNotNull(end, () -> "the client saw no end of the stream within 20 s (" + dataBytes.get() + " DATA bytes)");
        return end;
    }

    @Test
    void closeOfAStreamWhoseWindowRanOutReturnsAndEndsTheStream() throws Exception {
        SseConnection conn = connect(SseOptions.defaults());
        AtomicReference<CloseReason> reason = new AtomicReference<>();
        conn.onClose(reason::set);
        AtomicLong sent = new AtomicLong();
        CompletableFuture<Throwable> ended = sender(conn, sent);
        awaitBlocked(sent, ended);
        assertTrue(dataBytes.get() <= 16_384, () -> "more DATA than the window allows: " + dataBytes.get());

        long t0 = System.nanoTime();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(conn::close, r -> Thread.ofVirtual().start(r));
        try {
            closed.get(CLOSE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            fail("close() did not return within " + CLOSE_BOUND + " (" + sent.get() + " events sent before it)");
        }
        System.out.printf("JettyH2StuckClientTest: close() returned after %d ms (%d events sent, %d DATA bytes)%n",
                (System.nanoTime() - t0) / 1_000_000, sent.get(), dataBytes.get());
        assertFalse(conn.isOpen());
        assertEquals(CloseReason.CLOSED, reason.get());
        Throwable senderEnd;
        try {
            senderEnd = ended.get(6, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("the blocked sender was not released within 6 s of close() returning");
            return;
        }
        System.out.printf("JettyH2StuckClientTest: blocked sender released %d ms after close() began: %s%n",
                (System.nanoTime() - t0) / 1_000_000, senderEnd);
        assertInstanceOf(IOException.class, senderEnd, "the blocked sender's exception");
        assertInstanceOf(IOException.class, sendOnce(conn), "send() after close()");
        String end = awaitStreamEnd();
        System.out.printf("JettyH2StuckClientTest: the client saw %s %d ms after close() began%n", end,
                (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void aSendBlockedOnTheStreamWindowEndsAtTheWriteTimeout() throws Exception {
        SseConnection conn = connect(SseOptions.builder().writeTimeout(Duration.ofSeconds(1)).build());
        CompletableFuture<CloseReason> reason = new CompletableFuture<>();
        conn.onClose(reason::complete);
        AtomicLong sent = new AtomicLong();
        long t0 = System.nanoTime();
        CompletableFuture<Throwable> ended = sender(conn, sent);
        Throwable senderEnd;
        try {
            senderEnd = ended.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("a send blocked on the stream's window did not end within 20 s (write timeout 1 s; " + sent.get()
                    + " events sent)");
            return;
        }
        System.out.printf("JettyH2StuckClientTest: with writeTimeout 1 s the sender ended %d ms after it started"
                + " (%d events sent): %s%n", (System.nanoTime() - t0) / 1_000_000, sent.get(), senderEnd);
        assertInstanceOf(IOException.class, senderEnd, "the blocked sender's exception");
        assertTrue(senderEnd.getMessage().contains("writeTimeout"), senderEnd::toString);
        assertEquals(CloseReason.WRITE_TIMEOUT, reason.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, sendOnce(conn), "send() after the timeout");
        String end = awaitStreamEnd();
        System.out.printf("JettyH2StuckClientTest: the client saw %s %d ms after the sender started%n", end,
                (System.nanoTime() - t0) / 1_000_000);
        assertFalse(end.equals("END_STREAM"), "an aborted stream ended as if complete: " + end);
    }
}
