package dev.ssekit;

import dev.ssekit.testkit.SseConformanceSuite;
import java.net.InetSocketAddress;

/** The conformance suite on the JDK's built-in HTTP server ({@link Sse#start}). */
class JdkConformanceTest extends SseConformanceSuite {

    @Override
    protected Fixture start(ConnectionHandler handler) {
        TestServer server = new TestServer("/sse", exchange -> {
            String q = exchange.getRequestURI().getRawQuery();
            try {
                handler.handle(Sse.start(exchange), q == null ? "" : q);
            } catch (java.io.IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
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
