package dev.ssekit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31 over h2c: an HTTP/2 client that stops reading one stream (its flow-control window runs
 * out) while a handler thread sends 8 KB events; then {@code close()}. The abort resets the stream:
 * the client's body ends with an error (or an end) instead of waiting for ever.
 */
@Timeout(60)
class NettyH2StuckClientTest {

    @Test
    void closeOfAnHttp2StreamWhoseClientStoppedReadingReturnsAndResetsIt() throws Exception {
        BlockingQueue<SseConnection> streams = new LinkedBlockingQueue<>();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        try (NettySseServer server = NettySseServer.builder().route("/stuck", (request, conn) -> streams.add(conn)).start()) {
            URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/stuck");
            HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            SseConnection conn = streams.poll(10, TimeUnit.SECONDS);
            assertNotNull(conn);
            AtomicReference<CloseReason> reason = new AtomicReference<>();
            conn.onClose(reason::set);

            AtomicLong sent = new AtomicLong();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            String fill = "x".repeat(8 * 1024);
            Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 100_000; i++) {
                        conn.send(SseMessage.of(fill));
                        sent.incrementAndGet();
                    }
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long last = -1;
            long stillSince = System.nanoTime();
            while (true) {
                assertFalse(ended.isDone(), () -> "the sender ended before it blocked: " + ended.getNow(null));
                long n = sent.get();
                if (n != last) {
                    last = n;
                    stillSince = System.nanoTime();
                } else if (n > 0 && System.nanoTime() - stillSince > TimeUnit.SECONDS.toNanos(1)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("the sender never blocked (" + n + " events sent)");
                }
                Thread.sleep(50);
            }

            long t0 = System.nanoTime();
            try {
                CompletableFuture.runAsync(conn::close, r -> Thread.ofVirtual().start(r)).get(8, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                fail("close() did not return within 8 s (" + sent.get() + " events sent before it)");
            }
            System.out.printf("NettyH2StuckClientTest: close() returned after %d ms (%d events sent before it)%n",
                    (System.nanoTime() - t0) / 1_000_000, sent.get());
            assertEquals(CloseReason.CLOSED, reason.get());
            try {
                assertInstanceOf(IOException.class, ended.get(6, TimeUnit.SECONDS), "the blocked sender's exception");
            } catch (java.util.concurrent.TimeoutException e) {
                fail("the blocked sender was not released within 6 s of close() returning");
            }

            // the client reads again: what was sent, then the stream's end (a reset: IOException)
            CompletableFuture<String> end = CompletableFuture.supplyAsync(() -> {
                byte[] buf = new byte[64 * 1024];
                try (InputStream in = response.body()) {
                    while (in.read(buf) >= 0) {
                        // drain
                    }
                    return "EOF";
                } catch (IOException e) {
                    return "reset: " + e;
                }
            }, r -> Thread.ofVirtual().start(r));
            System.out.println("NettyH2StuckClientTest: the client's body ended with " + end.get(20, TimeUnit.SECONDS));
        } finally {
            client.shutdownNow(); // close() would wait for the exchange, which a failure may leave open
        }
    }
}
