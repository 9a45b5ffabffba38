package dev.ssekit;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.testkit.StuckClientSuite;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Issue #31 on the JDK's built-in HTTP server. */
class JdkStuckClientTest extends StuckClientSuite {

    @Override
    protected Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext(PATH, exchange -> streams.add(Sse.start(exchange, options)));
        server.start();
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getAddress().getPort());
            }

            @Override
            public void close() {
                server.stop(0);
                executor.shutdownNow();
            }
        };
    }
}
