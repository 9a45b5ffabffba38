package dev.ssekit.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.SseOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31 review: many clients that stop reading (a proxy that stopped reading) hit the write
 * timeout together on Tomcat 11. Each abort must release its blocked sender and drop its
 * connection, through a bounded number of interrupter threads (one shared thread, not one
 * spinning platform thread per abort). Tomcat's connectionTimeout is 60 s, so only ssekit's abort
 * can end these connections within the test's bounds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TomcatManyStuckClientsTest {

    private static final int CLIENTS = 300;
    /** The abort's thread name (the shared interrupter's as well as the per-abort threads it replaced). */
    private static final String ABORT_THREAD = "ssekit-servlet-abort";
    private static final String FILL = "x".repeat(8 * 1024);

    private EmbeddedTomcat tomcat;
    private final List<Socket> clients = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Socket s : clients) {
            s.close();
        }
        if (tomcat != null) {
            tomcat.close();
        }
    }

    private int startTomcat(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception {
        Map<String, String> connector = new HashMap<>(EmbeddedTomcat.STUCK_CLIENT);
        // small fixed send buffers: each sender blocks after a few events, not after megabytes of
        // loopback autotuning times 300 connections
        connector.put("socket.txBufSize", "8192");
        connector.put("acceptCount", String.valueOf(CLIENTS));
        tomcat = EmbeddedTomcat.start("stuck", new StuckServlet(options, streams), "/stuck", connector);
        return tomcat.port();
    }

    private static int abortThreads() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(ABORT_THREAD)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void manyClientsTimingOutTogetherAreAllReleasedByABoundedNumberOfAbortThreads() throws Exception {
        BlockingQueue<SseConnection> streams = new LinkedBlockingQueue<>();
        int port = startTomcat(SseOptions.builder().writeTimeout(Duration.ofSeconds(1)).build(), streams);
        byte[] request = "GET /stuck HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < CLIENTS; i++) {
            Socket s = new Socket();
            clients.add(s);
            s.setReceiveBufferSize(4096);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
        }
        List<SseConnection> conns = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            SseConnection c = streams.poll(10, TimeUnit.SECONDS);
            assertTrue(c != null, "only " + i + " of " + CLIENTS + " streams started");
            conns.add(c);
        }

        // the most abort threads alive at once, sampled while the senders block, time out and are released
        // (a sampler on a scheduler of its own, 5 ms between samples as before: a measurement, not a wait; shut down below)
        AtomicInteger maxAbortThreads = new AtomicInteger();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("abort-thread-sampler").factory());
        sampler.scheduleWithFixedDelay(() -> maxAbortThreads.accumulateAndGet(abortThreads(), Math::max), 0, 5, TimeUnit.MILLISECONDS);

        List<CompletableFuture<Throwable>> ended = new ArrayList<>();
        AtomicInteger sent = new AtomicInteger();
        for (SseConnection c : conns) {
            CompletableFuture<Throwable> f = new CompletableFuture<>();
            ended.add(f);
            Thread.ofVirtual().name("stuck-sender").start(() -> {
                try {
                    for (int i = 0; i < 10_000; i++) {
                        c.send(SseMessage.of(FILL));
                        sent.incrementAndGet();
                    }
                    f.complete(null);
                } catch (Throwable t) {
                    f.complete(t);
                }
            });
        }
        long t0 = System.nanoTime();
        try {
            CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new)).get(25, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            long open = ended.stream().filter(f -> !f.isDone()).count();
            fail(open + " of " + CLIENTS + " blocked senders not released within 25 s (write timeout 1 s; "
                    + sent.get() + " events sent in all; at most " + maxAbortThreads.get() + " abort threads at once)");
        }
        System.out.printf("TomcatManyStuckClientsTest: %d senders released %d ms after they started (%d events sent);"
                + " at most %d abort thread(s) alive at once%n", CLIENTS, (System.nanoTime() - t0) / 1_000_000,
                sent.get(), maxAbortThreads.get());
        for (CompletableFuture<Throwable> f : ended) {
            assertInstanceOf(IOException.class, f.get(), "a blocked sender's exception");
        }
        for (SseConnection c : conns) {
            assertTrue(!c.isOpen(), "a connection still open after its write timed out");
        }

        // every client sees its connection end (EOF or reset) within a shared bound
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int stillOpen = 0;
        byte[] buf = new byte[64 * 1024];
        for (Socket s : clients) {
            if (!drainedToEnd(s, buf, deadline)) {
                stillOpen++;
            }
        }
        sampler.shutdown();
        assertTrue(sampler.awaitTermination(5, TimeUnit.SECONDS), "the sampler stopped");
        assertEquals(0, stillOpen, "client connections still open 20 s after the senders were released");
        assertTrue(maxAbortThreads.get() <= 1,
                "at most one abort (interrupter) thread may be alive at a time; saw " + maxAbortThreads.get());
    }

    /** Reads until EOF or a reset; false when the deadline passes first. */
    private static boolean drainedToEnd(Socket s, byte[] buf, long deadline) throws IOException {
        s.setSoTimeout(200);
        InputStream in = s.getInputStream();
        while (System.nanoTime() < deadline) {
            try {
                if (in.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException idle) {
                // still open: try again until the deadline
            } catch (SocketException reset) {
                return true;
            }
        }
        return false;
    }
}
