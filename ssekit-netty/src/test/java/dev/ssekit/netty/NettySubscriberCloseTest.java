package dev.ssekit.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.CloseReason;
import dev.ssekit.SseConnection;
import dev.ssekit.testkit.H2cCheck;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.StuckWrites;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #31 (suspected, confirmed): {@code close()} of a broadcaster subscriber whose asynchronous
 * write is stuck (a client that stopped reading) waited until the broadcaster's write timeout
 * evicted it (30 s by default): the close event queued behind the stuck write with no bound.
 */
@Timeout(60)
class NettySubscriberCloseTest {

    @Test
    void closeOfASubscriberWithAStuckAsyncWriteReturnsWithinTheGraceAndAborts() throws Exception {
        BlockingQueue<SseConnection> connections = new LinkedBlockingQueue<>();
        try (Broadcaster hub = Broadcaster.builder().maxQueuedBytes(1L << 40).build();
                NettySseServer server = NettySseServer.builder().route("/sse", (request, conn) -> {
                    hub.subscribe(conn, "x");
                    connections.add(conn);
                }).start();
                RawHttp stuck = RawHttp.get(server.address(), "/sse", "HTTP/1.1")) {
            stuck.socket.setReceiveBufferSize(4096);
            SseConnection conn = connections.poll(10, TimeUnit.SECONDS);
            assertThat(conn).as("the connection").isNotNull();
            BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
            conn.onClose(reasons::add);
            StuckWrites.publishUntilStuck(hub, "x", stuck.socket);
            StuckWrites.awaitStuckWrite(hub);

            CompletableFuture<Void> closed = CompletableFuture.runAsync(conn::close, r -> Thread.ofVirtual().start(r));
            closed.get(8, TimeUnit.SECONDS); // default close grace 1 s (twice, plus margin); the eviction comes at 30 s
            assertThat(reasons.poll(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.CLOSED);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                    H2cCheck.establishedConnections(server.address().getPort())).as("server-side connections still established").isZero());
        }
    }
}
