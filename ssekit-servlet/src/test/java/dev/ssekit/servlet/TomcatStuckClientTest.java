package dev.ssekit.servlet;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import dev.ssekit.testkit.StuckClientSuite;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;

/** Issue #31 on embedded Tomcat 11, default connector settings. */
class TomcatStuckClientTest extends StuckClientSuite {

    @Override
    protected Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception {
        // the suite's bounds (sender released within 6 s of close(), client sees the end within 20 s) must
        // hold by ssekit's own abort, not by Tomcat's connectionTimeout
        EmbeddedTomcat tomcat = EmbeddedTomcat.start("stuck", new StuckServlet(options, streams), PATH, EmbeddedTomcat.STUCK_CLIENT);
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return tomcat.address();
            }

            @Override
            public void close() throws Exception {
                tomcat.close();
            }
        };
    }
}
