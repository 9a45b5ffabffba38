package dev.ssekit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31's nit: a {@code send()} on a thread the application interrupted, to a healthy client, is
 * not a client that went away ({@link CloseReason#CLIENT_GONE}). On the JDK server, whose socket
 * channel closes itself when an interrupted thread writes to it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptedSendTest {

    private final JdkStreamFixture fixture = new JdkStreamFixture();

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    /**
     * The thread is interrupted before it sends (a cancelled task, a shutdown): the send throws
     * {@link InterruptedIOException} without writing and keeps the interrupt status; the stream and
     * the client are untouched, so a later send from a thread that cleared its status is delivered.
     */
    @Test
    void aSendOnAnInterruptedThreadThrowsAndLeavesTheStreamOpen() throws Exception {
        InetSocketAddress[] address = new InetSocketAddress[1];
        BlockingQueue<SseConnection> streams = fixture.streams(SseOptions.defaults(), address);
        try (RawHttp client = RawHttp.get(address[0], "/s", "HTTP/1.1")) {
            client.socket.setSoTimeout(10_000);
            SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
            assertNotNull(conn, "no stream started");
            CompletableFuture<CloseReason> reason = new CompletableFuture<>();
            conn.onClose(reason::complete);
            CompletableFuture<Throwable> interruptedSend = new CompletableFuture<>();
            CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
            Thread.ofPlatform().name("interrupted-sender").start(() -> {
                try {
                    conn.send(SseMessage.of("before"));
                    Thread.currentThread().interrupt();
                    try {
                        conn.send(SseMessage.of("dropped"));
                        interruptedSend.complete(null);
                    } catch (Throwable t) {
                        interruptedSend.complete(t);
                    }
                    stillInterrupted.complete(Thread.interrupted());
                    conn.send(SseMessage.of("after"));
                    conn.close();
                } catch (Throwable t) {
                    stillInterrupted.completeExceptionally(t);
                    reason.completeExceptionally(t);
                }
            });
            assertInstanceOf(InterruptedIOException.class, interruptedSend.get(10, TimeUnit.SECONDS),
                    "the send on an interrupted thread");
            assertTrue(stillInterrupted.get(10, TimeUnit.SECONDS), "the send cleared the caller's interrupt status");
            assertEquals(CloseReason.CLOSED, reason.get(10, TimeUnit.SECONDS),
                    "the stream was ended by the interrupted send, not by close()");
            String body = client.readToEnd();
            assertTrue(body.contains("data: before"), body);
            assertFalse(body.contains("data: dropped"), body);
            assertTrue(body.contains("data: after"), () -> "the send after the interrupt was not delivered: " + body);
            assertTrue(body.contains("event: close"), () -> "no close event in " + body);
        }
    }

    /**
     * The application interrupts a thread blocked in a send to a client that does not read: the
     * send ends with an {@link IOException} and the thread's interrupt status set; the connection
     * ends (the write may have been cut), but as the application's doing ({@link
     * CloseReason#CLOSED}), not as a client that went away.
     */
    @Test
    void anInterruptedBlockedSendEndsTheStreamAsClosedNotClientGone() throws Exception {
        InetSocketAddress[] address = new InetSocketAddress[1];
        BlockingQueue<SseConnection> streams = fixture.streams(SseOptions.defaults(), address);
        fixture.nonReadingClient(address[0]);
        SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
        assertNotNull(conn, "no stream started");
        CompletableFuture<CloseReason> reason = new CompletableFuture<>();
        conn.onClose(reason::complete);
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        Thread sender = Thread.ofPlatform().name("blocked-sender").start(() -> {
            try {
                for (int i = 0; i < 100_000; i++) {
                    conn.send(SseMessage.of(JdkStreamFixture.FILL));
                    sent.incrementAndGet();
                }
                ended.complete(null);
            } catch (Throwable t) {
                ended.complete(t);
            }
            interruptedAfter.complete(Thread.currentThread().isInterrupted());
        });
        // the send is blocked: no event went out for 1 s on end, the sender still inside it (polled, at most 30 s)
        long[] last = {-1};
        org.awaitility.Awaitility.await("the sender blocked").atMost(Duration.ofSeconds(30)).during(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(50)).until(() -> {
                    assertFalse(ended.isDone(), () -> "the sender ended before it blocked: " + ended.getNow(null));
                    long n = sent.get();
                    boolean still = n == last[0];
                    last[0] = n;
                    return still && n > 0;
                });
        sender.interrupt();
        Throwable t;
        try {
            t = ended.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("the interrupted blocked send did not end within 10 s");
            return;
        }
        assertInstanceOf(IOException.class, t, "the interrupted send's exception");
        assertTrue(interruptedAfter.get(5, TimeUnit.SECONDS), "the sender's interrupt status was cleared");
        assertEquals(CloseReason.CLOSED, reason.get(5, TimeUnit.SECONDS), "the close reason of an interrupted send");
        assertFalse(conn.isOpen());
    }
}
