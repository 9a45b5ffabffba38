package dev.ssekit.servlet;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.Broadcaster;
import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.SseOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31 review: a broadcaster's shutdown ends each subscriber's response ({@code closeWith(SHUTDOWN)}
 * → the transport's {@code close()}) without the connection's write lock, while the subscriber's
 * delivery may be blocked in a write to a client that stopped reading. Servlet output streams are
 * not thread-safe: the end must never run inside the stream while the write is. The client must
 * see its connection end, and what it received must be well-formed chunked SSE (a cut chunk only
 * at the very end).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class ShutdownDuringBlockedDeliverySuite {

    /** A running server with the servlet at {@link #PATH}. */
    interface Server {
        int port();

        void close() throws Exception;
    }

    static final String PATH = "/stuck";
    private static final String FILL = "y".repeat(8 * 1024);

    private Server server;
    private Socket client;
    private Broadcaster broadcaster;

    /** Starts the server with {@code servlet} (async supported) at {@link #PATH}, HTTP/1.1. */
    abstract Server start(RecordingServlet servlet) throws Exception;

    @AfterEach
    void tearDown() throws Exception {
        if (broadcaster != null) {
            broadcaster.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** The client reads again as soon as the subscriber is closed: the delivery completes, then the end. */
    @Test
    void shutdownWhileADeliveryIsBlockedNeverRunsInsideTheStreamWithTheWrite() throws Exception {
        shutdownDuringABlockedDelivery(false);
    }

    /** The client reads only long after the close grace: the end is an abort under the blocked delivery. */
    @Test
    void shutdownWhileADeliveryStaysBlockedAbortsWithoutEnteringTheStreamWithTheWrite() throws Exception {
        shutdownDuringABlockedDelivery(true);
    }

    private void shutdownDuringABlockedDelivery(boolean staysStuck) throws Exception {
        BlockingQueue<SseConnection> streams = new LinkedBlockingQueue<>();
        RecordingServlet servlet = new RecordingServlet(SseOptions.defaults(), streams);
        server = start(servlet);
        client = new Socket();
        client.setReceiveBufferSize(4096);
        client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        OutputStream out = client.getOutputStream();
        out.write(("GET " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
        assertNotNull(conn, "no stream started");
        CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        conn.onClose(closed::complete);

        // write timeout 3 s: the liveness sweep must not evict the stuck write before the shutdown does; a
        // queue bound well above what the socket buffers hold: the subscriber is not dropped as a slow consumer
        broadcaster = Broadcaster.builder().writeTimeout(Duration.ofSeconds(3)).maxQueuedBytes(256L << 20).build();
        broadcaster.subscribe(conn, "t");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger published = new AtomicInteger();
        Thread publisher = Thread.ofVirtual().name("publisher").start(() -> {
            while (!stop.get() && published.get() < 5_000 && !broadcaster.isClosed()) {
                broadcaster.publish(SseMessage.of(FILL), "t");
                published.incrementAndGet();
            }
        });
        // the delivery blocked in a write (inside the servlet output stream for 300 ms), the subscriber still open
        try {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
                assertTrue(conn.isOpen(),
                        () -> "the subscriber was closed before its delivery blocked: " + closed.getNow(null));
                return servlet.insideFor() >= TimeUnit.MILLISECONDS.toNanos(300);
            });
        } catch (ConditionTimeoutException e) {
            fail("the delivery never blocked in a write (" + published.get() + " events published)");
        }
        stop.set(true);
        assertEquals(0, servlet.overlaps.size(), servlet.overlaps::toString);

        // the shutdown: the subscriber is closed with SHUTDOWN after the write timeout, while its delivery
        // is still blocked; the close grace (1 s) then aborts it
        broadcaster.close();
        publisher.join(10_000);
        assertEquals(CloseReason.SHUTDOWN, closed.get(15, TimeUnit.SECONDS));
        if (staysStuck) {
            // a bounded negative wait, the point of this case: the client reads nothing for three times the close
            // grace (1 s), so an end that waited for the client would still be waiting (and then end gracefully,
            // which the assertion below rejects); no signal can stand for "the client did not read"
            Thread.sleep(3_000);
        }

        byte[] received = readToEnd(client, TimeUnit.SECONDS.toNanos(20));
        // the stream's end runs on its own thread after the close: let it finish before judging
        try {
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> servlet.inside.get() == 0);
        } catch (ConditionTimeoutException stillInside) {
            // judged as it is, as before: the overlap check below is what fails
        }
        assertEquals(0, servlet.overlaps.size(),
                "two threads inside the servlet output stream at once: " + servlet.overlaps);
        String problem = chunkedSseProblem(received);
        assertTrue(problem == null, () -> problem + " (" + received.length + " bytes received)");
        boolean graceful = endsWithLastChunk(received, received.length);
        System.out.printf("%s (client %s): %d events published, client received %d bytes, then %s%n",
                getClass().getSimpleName(), staysStuck ? "stuck" : "reading", published.get(), received.length,
                graceful ? "the last chunk" : "EOF or a reset");
        if (staysStuck) {
            assertTrue(!graceful, "the response ended gracefully although the client read nothing for 3 s");
        }
    }

    private static boolean endsWithLastChunk(byte[] b, int length) {
        byte[] last = "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        if (length < last.length) {
            return false;
        }
        return java.util.Arrays.equals(b, length - last.length, length, last, 0, last.length);
    }

    /**
     * Reads until EOF, a reset or the last chunk (a graceful end leaves an HTTP/1.1 connection open);
     * fails when none comes before the deadline.
     */
    private static byte[] readToEnd(Socket s, long within) throws IOException {
        s.setSoTimeout(200);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        long deadline = System.nanoTime() + within;
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return all.toByteArray();
                }
                all.write(buf, 0, n);
                byte[] sofar = all.toByteArray();
                if (endsWithLastChunk(sofar, sofar.length)) {
                    return sofar;
                }
            } catch (SocketTimeoutException idle) {
                // still open
            } catch (SocketException reset) {
                return all.toByteArray();
            }
        }
        fail("the connection is still open " + TimeUnit.NANOSECONDS.toSeconds(within) + " s after the shutdown ("
                + all.size() + " bytes received)");
        return null;
    }

    /**
     * Null when {@code wire} is an HTTP/1.1 200 head and a chunked body of SSE events, where only the
     * very end may be cut (inside a chunk or a size line); otherwise what is wrong.
     */
    static String chunkedSseProblem(byte[] wire) {
        String s = new String(wire, StandardCharsets.ISO_8859_1);
        int headEnd = s.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            return "no complete response head";
        }
        String head = s.substring(0, headEnd);
        if (!head.startsWith("HTTP/1.1 200") || !head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
            return "not a chunked 200 response: " + head;
        }
        StringBuilder body = new StringBuilder();
        int p = headEnd + 4;
        while (p < s.length()) {
            int eol = s.indexOf("\r\n", p);
            if (eol < 0) {
                if (!s.substring(p).matches("[0-9a-fA-F]*\r?")) {
                    return "malformed chunk size line at the end, offset " + p + ": " + abbreviate(s.substring(p));
                }
                break; // cut inside the size line: the end
            }
            String sizeLine = s.substring(p, eol);
            if (!sizeLine.matches("[0-9a-fA-F]{1,8}")) {
                return "malformed chunk size line at offset " + p + ": " + abbreviate(sizeLine);
            }
            int size = Integer.parseInt(sizeLine, 16);
            int data = eol + 2;
            if (size == 0) {
                if (!s.substring(data).equals("\r\n") && !"\r\n".startsWith(s.substring(data))) {
                    return "bytes after the last chunk: " + abbreviate(s.substring(data));
                }
                break;
            }
            if (data + size > s.length()) {
                body.append(s, data, s.length()); // cut inside the chunk: must be the end, which it is
                break;
            }
            body.append(s, data, data + size);
            int next = data + size;
            String crlf = s.substring(next, Math.min(next + 2, s.length()));
            if (!"\r\n".startsWith(crlf)) {
                return "chunk of " + size + " bytes at offset " + p + " not followed by CRLF: " + abbreviate(s.substring(next));
            }
            p = next + 2;
        }
        String events = body.toString();
        int last = events.lastIndexOf("\n\n");
        String complete = last < 0 ? "" : events.substring(0, last);
        for (String event : complete.split("\n\n", -1)) {
            for (String line : event.split("\n", -1)) {
                if (!(line.isEmpty() || line.startsWith(":") || line.startsWith("data:") || line.startsWith("event:")
                        || line.startsWith("id:") || line.startsWith("retry:"))) {
                    return "malformed SSE line: " + abbreviate(line);
                }
            }
        }
        return null;
    }

    private static String abbreviate(String s) {
        String t = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return t.replace("\r", "\\r").replace("\n", "\\n");
    }
}
