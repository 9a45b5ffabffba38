package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.Sse;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The nodes of the Redis tests ({@link RedisEventLogTest}, {@link RedisFaultsTest}, {@link
 * RedisRollbackReviewTest}): each a broadcaster on its own {@link RedisEventLog}, behind the JDK
 * HTTP server on loopback, {@code GET /events} subscribing to topic "t". Whatever they start is
 * added to the caller's list of closeables, which the test closes in reverse order ({@link
 * #closeAll}).
 */
final class RedisNodes {

    private RedisNodes() {
    }

    /** One node: a broadcaster, its log, and its HTTP server. */
    record Node(Broadcaster broadcaster, RedisEventLog log, HttpServer http) {
        InetSocketAddress address() {
            return http.getAddress();
        }
    }

    /** Builds the log and starts a node on it; the log, the server and the broadcaster go to {@code closeables}. */
    static Node node(RedisEventLog.Builder builder, List<AutoCloseable> closeables) throws IOException {
        RedisEventLog log = builder.build();
        closeables.add(log);
        Broadcaster b = Broadcaster.builder().log(log).build();
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/events", ex -> b.subscribe(Sse.start(ex), "t"));
        http.start();
        closeables.add(() -> {
            http.stop(0);
            executor.shutdownNow();
        });
        closeables.add(b);
        return new Node(b, log, http);
    }

    /**
     * Subscribes over raw HTTP/1.1 and waits (up to 10 s) until the node counts the connection; the
     * connection goes to {@code closeables}.
     */
    static RawHttp subscribe(Node n, List<AutoCloseable> closeables, String... headers) throws Exception {
        long before = n.broadcaster().stats().connections();
        RawHttp c = RawHttp.get(n.address(), "/events", "HTTP/1.1", headers);
        closeables.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(n.broadcaster().stats().connections()).as("subscribed").isEqualTo(before + 1));
        return c;
    }

    /** Publishes {@code data} to topic "t" through the node and returns the id (throws if the log refuses). */
    static String publish(Node n, String data) {
        return n.broadcaster().publishAsync(SseMessage.of(data), List.of("t"), false).toCompletableFuture().join();
    }

    /** Closes the closeables, last first. */
    static void closeAll(List<AutoCloseable> closeables) throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }
}
