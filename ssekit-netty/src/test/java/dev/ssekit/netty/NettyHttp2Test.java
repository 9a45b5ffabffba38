package dev.ssekit.netty;

import dev.ssekit.Broadcaster;
import dev.ssekit.testkit.H2cCheck;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SSE over h2c on Netty: 100 concurrent streams on one connection. */
@Timeout(120)
class NettyHttp2Test {

    @Test
    void hundredConcurrentStreamsOnOneConnection() throws Exception {
        try (Broadcaster hub = Broadcaster.create();
                NettySseServer server = NettySseServer.builder().route("/sse", (request, conn) -> hub.subscribe(conn, "h2")).start()) {
            org.assertj.core.api.Assertions.assertThat(server.isEpoll()).as("native epoll on Linux")
                    .isEqualTo(io.netty.channel.epoll.Epoll.isAvailable()).isTrue();
            H2cCheck.run(URI.create("http://127.0.0.1:" + server.address().getPort() + "/sse"), hub, 100);
        }
    }

    @Test
    void nioTransportWorksToo() throws Exception {
        try (Broadcaster hub = Broadcaster.create();
                NettySseServer server = NettySseServer.builder().preferEpoll(false)
                        .route("/sse", (request, conn) -> hub.subscribe(conn, "h2")).start()) {
            org.assertj.core.api.Assertions.assertThat(server.isEpoll()).isFalse();
            H2cCheck.run(URI.create("http://127.0.0.1:" + server.address().getPort() + "/sse"), hub, 10);
        }
    }
}
