package dev.ssekit.servlet;

import dev.ssekit.testkit.SseConformanceSuite;
import java.net.InetSocketAddress;
import java.util.Map;

/** The conformance suite on embedded Tomcat 11. */
class TomcatConformanceTest extends SseConformanceSuite {

    @Override
    protected Fixture start(ConnectionHandler handler) throws Exception {
        EmbeddedTomcat tomcat = EmbeddedTomcat.start("sse", new TestServlet(handler), "/sse", Map.of());
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return tomcat.address();
            }

            @Override
            public void close() {
                try {
                    tomcat.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }
}
