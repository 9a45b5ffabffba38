package dev.ssekit.netty;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import dev.ssekit.testkit.StuckClientSuite;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;

/** Issue #31 on Netty, HTTP/1.1 (the stream handler in place of the codec). */
class NettyStuckClientTest extends StuckClientSuite {

    @Override
    protected Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) {
        NettySseServer server = NettySseServer.builder()
                .connectionOptions(options)
                .route(PATH, (request, conn) -> streams.add(conn))
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
