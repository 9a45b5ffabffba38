package dev.ssekit.netty;

import dev.ssekit.testkit.SseConformanceSuite;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;

/** The conformance suite on Netty (HTTP/1.1 with h2c enabled, the default). */
class NettyConformanceTest extends SseConformanceSuite {

    @Override
    protected Fixture start(ConnectionHandler handler) {
        NettySseServer server = NettySseServer.builder()
                .route("/sse", (request, conn) -> handler.handle(conn, new QueryStringDecoder(request.uri()).rawQuery()))
                .start();
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return server.address();
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }
}
