package dev.ssekit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.spi.SseTransport;
import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of issue #31's single-connection layer: an interrupted thread's {@code close()}, and the
 * one watchdog thread shared by every connection of the JVM.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SingleConnectionReviewTest {

    private final JdkStreamFixture fixture = new JdkStreamFixture();

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    /**
     * A handler thread that was interrupted (a shutdown, a cancelled task) and closes its stream in
     * a {@code finally}: the seed's contract is that close() sends the last event and ends the
     * response; the caller's interrupt status is its own and stays set.
     */
    @Test
    void closeFromAnInterruptedThreadEndsTheStreamGracefullyAndKeepsTheInterrupt() throws Exception {
        InetSocketAddress[] address = new InetSocketAddress[1];
        BlockingQueue<SseConnection> streams = fixture.streams(SseOptions.defaults(), address);
        try (RawHttp client = RawHttp.get(address[0], "/s", "HTTP/1.1")) {
            client.socket.setSoTimeout(10_000);
            SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
            assertNotNull(conn, "no stream started");
            CompletableFuture<CloseReason> reason = new CompletableFuture<>();
            conn.onClose(reason::complete);
            CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
            Thread.ofPlatform().name("interrupted-handler").start(() -> {
                try {
                    conn.send(SseMessage.of("before"));
                    Thread.currentThread().interrupt(); // e.g. an executor's shutdownNow() during the handler's wait
                    conn.close();
                    stillInterrupted.complete(Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    stillInterrupted.completeExceptionally(t);
                }
            });
            assertTrue(stillInterrupted.get(10, TimeUnit.SECONDS), "close() cleared the caller's own interrupt status");
            assertEquals(CloseReason.CLOSED, reason.get(5, TimeUnit.SECONDS));
            String body;
            try {
                body = client.readToEnd();
            } catch (IOException e) {
                fail("the response did not end gracefully after close() on an interrupted thread: " + e);
                return;
            }
            assertTrue(body.contains("data: before"), body);
            assertTrue(body.contains("event: close"), () -> "no close event in " + body);
        }
    }

    /**
     * A transport of the SPI that keeps the default {@link SseTransport#abort()} (which calls a
     * {@code close()} that may block, as the SPI allows): its write timeout must not stop the
     * deadlines of every other connection in the JVM, which share one watchdog thread.
     */
    @Test
    void aTransportWhoseAbortBlocksDoesNotStopOtherConnectionsTimeouts() throws Exception {
        SseOptions oneSecond = SseOptions.builder().writeTimeout(Duration.ofSeconds(1)).build();

        // connection 1: a custom transport over a plain socket to a client that never reads
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        fixture.closeAtEnd(listener);
        Socket stuckClient = new Socket();
        stuckClient.setReceiveBufferSize(4096);
        stuckClient.connect(listener.getLocalSocketAddress(), 5000);
        fixture.closeAtEnd(stuckClient); // closing it at the end releases the blocked writes
        Socket served = listener.accept();
        served.setSendBufferSize(4096);
        fixture.closeAtEnd(served);
        SseConnection custom = Sse.open(new BlockingCloseTransport(served), oneSecond);
        CompletableFuture<Throwable> customSender = sendUntilItThrows(custom);
        try {
            customSender.get(3, TimeUnit.SECONDS); // past its own write timeout: its abort (a close) now blocks
        } catch (TimeoutException e) {
            // expected: the abort's close waits behind the blocked write until the socket closes at the end
        }

        // connection 2: the JDK server, another client that never reads
        InetSocketAddress[] address = new InetSocketAddress[1];
        BlockingQueue<SseConnection> streams = fixture.streams(oneSecond, address);
        fixture.nonReadingClient(address[0]);
        SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
        assertNotNull(conn, "no stream started");
        CompletableFuture<Throwable> sender = sendUntilItThrows(conn);
        Throwable end;
        try {
            end = sender.get(15, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("a send blocked on a client that does not read did not end within 15 s (writeTimeout 1 s): "
                    + "the shared watchdog thread is stuck in another transport's abort");
            return;
        }
        assertInstanceOf(IOException.class, end);
        assertTrue(end.getMessage().contains("writeTimeout"), end::toString);
    }

    /**
     * Senders, a close from another thread and a close from a close listener race on connections
     * whose client does not read, with a short grace and write timeout, so that the abort (which on
     * the JDK server interrupts the threads inside a write) lands in the middle: every send ends
     * with {@link IOException}, the listener runs once, and no sender thread comes back with an
     * interrupt status it did not have.
     */
    @Test
    void racingSendsAndClosesEndEveryWriterWithoutALeftoverInterrupt() throws Exception {
        SseOptions shortBounds = SseOptions.builder().writeTimeout(Duration.ofMillis(300)).closeGrace(Duration.ofMillis(100))
                .build();
        InetSocketAddress[] address = new InetSocketAddress[1];
        BlockingQueue<SseConnection> streams = fixture.streams(shortBounds, address);
        for (int round = 0; round < 12; round++) {
            Socket client = fixture.nonReadingClient(address[0]);
            SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
            assertNotNull(conn, "no stream started");
            java.util.concurrent.atomic.AtomicInteger fired = new java.util.concurrent.atomic.AtomicInteger();
            conn.onClose(r -> {
                fired.incrementAndGet();
                conn.close(); // from the listener: must return at once
            });
            List<CompletableFuture<String>> senders = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            CountDownLatch sentOne = new CountDownLatch(1);
            for (int t = 0; t < 4; t++) {
                CompletableFuture<String> f = new CompletableFuture<>();
                senders.add(f);
                Thread.Builder builder = t % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
                threads.add(builder.name("racing-sender-" + t).start(() -> {
                    try {
                        for (int i = 0; i < 10_000; i++) {
                            conn.send(SseMessage.of(JdkStreamFixture.FILL));
                            sentOne.countDown();
                        }
                        f.complete("never blocked");
                    } catch (IOException expected) {
                        f.complete(Thread.currentThread().isInterrupted() ? "interrupted after " + expected : "ok");
                    } catch (Throwable other) {
                        f.complete("threw " + other);
                    }
                }));
            }
            // close before, around and after the writes block, each phase on its own signal: at once;
            // once a send went through; once a sender is held in a socket write (a virtual one parks
            // there, a platform one blocks in the native call). If the write timeout ended every
            // sender first, the close comes after that
            if (round % 4 != 0) {
                boolean blocked = round % 4 >= 2;
                await("round " + round + (blocked ? ": a sender blocked in a socket write" : ": a send through"))
                        .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                        .until(() -> (blocked ? threads.stream().anyMatch(SingleConnectionReviewTest::blockedInSocketWrite)
                                : sentOne.getCount() == 0) || senders.stream().allMatch(CompletableFuture::isDone));
            }
            CompletableFuture<Void> closed = CompletableFuture.runAsync(conn::close, r -> Thread.ofPlatform().start(r));
            closed.get(5, TimeUnit.SECONDS);
            for (CompletableFuture<String> f : senders) {
                assertEquals("ok", f.get(10, TimeUnit.SECONDS), "round " + round);
            }
            assertEquals(1, fired.get(), "close listener runs once");
            client.close();
        }
    }

    /**
     * Whether {@code t} is held inside the JDK's socket write (the peer's full window holds it): a
     * virtual thread parks there, a platform thread blocks in the native call.
     */
    private static boolean blockedInSocketWrite(Thread t) {
        Thread.State s = t.getState();
        StackTraceElement[] stack = t.getStackTrace();
        boolean held = s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING
                || (s == Thread.State.RUNNABLE && stack.length > 0 && stack[0].isNativeMethod());
        return held && Arrays.stream(stack)
                .anyMatch(f -> f.getClassName().startsWith("sun.nio.ch.") && f.getMethodName().contains("write"));
    }

    /**
     * {@link SseOptions} accepts any positive write timeout, so "no timeout to speak of" written as
     * {@code Duration.ofSeconds(Long.MAX_VALUE)} (or {@code ChronoUnit.FOREVER.getDuration()}) must
     * give a working stream, not an {@link ArithmeticException} from the conversion to nanoseconds
     * once the response head is out.
     */
    @Test
    void theLongestDurationsTheBuilderAcceptsGiveAWorkingStream() throws Exception {
        SseOptions forever = SseOptions.builder().writeTimeout(Duration.ofSeconds(Long.MAX_VALUE))
                .closeGrace(java.time.temporal.ChronoUnit.FOREVER.getDuration()).build();
        CompletableFuture<Throwable> handler = new CompletableFuture<>();
        InetSocketAddress address = fixture.server(exchange -> {
            try {
                SseConnection conn = Sse.start(exchange, forever);
                conn.send(SseMessage.of("hello"));
                conn.close();
                handler.complete(null);
            } catch (Throwable t) {
                handler.complete(t);
                exchange.close();
            }
        });
        try (RawHttp client = RawHttp.get(address, "/s", "HTTP/1.1")) {
            client.socket.setSoTimeout(10_000);
            assertEquals(null, handler.get(10, TimeUnit.SECONDS), "the handler failed");
            String body = client.readToEnd();
            assertTrue(body.contains("data: hello") && body.contains("event: close"), body);
        }
    }

    private static CompletableFuture<Throwable> sendUntilItThrows(SseConnection conn) {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread.ofVirtual().name("review-sender").start(() -> {
            try {
                for (int i = 0; i < 100_000; i++) {
                    conn.send(SseMessage.of(JdkStreamFixture.FILL));
                }
                ended.complete(null);
            } catch (Throwable t) {
                ended.complete(t);
            }
        });
        return ended;
    }

    /**
     * An SPI transport as a third party may write one: blocking writes to a socket, a close that
     * writes a last line first (so it blocks while the peer does not read), the default abort.
     */
    private static final class BlockingCloseTransport implements SseTransport {
        private final Socket socket;
        private final OutputStream out;

        BlockingCloseTransport(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        @Override
        public void close() {
            try {
                out.write(": bye\n\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                // ended anyway
            }
            try {
                socket.close();
            } catch (IOException e) {
                // closed anyway
            }
        }

        @Override
        public Optional<String> lastEventId() {
            return Optional.empty();
        }
    }
}
