package dev.ssekit.servlet;

import dev.ssekit.testkit.SseConformanceSuite;
import java.net.InetSocketAddress;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** The conformance suite on embedded Jetty 12 (ee10), HTTP/1.1 with h2c enabled. */
class JettyConformanceTest extends SseConformanceSuite {

    /** A started Jetty serving the servlet at /sse on a loopback port; HTTP/1.1 and h2c. */
    static Server jetty(jakarta.servlet.http.HttpServlet servlet) throws Exception {
        Server server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config),
                new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        ServletHolder holder = new ServletHolder(servlet);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/sse");
        server.setHandler(context);
        server.start();
        return server;
    }

    static InetSocketAddress address(Server server) {
        return new InetSocketAddress("127.0.0.1", ((ServerConnector) server.getConnectors()[0]).getLocalPort());
    }

    @Override
    protected Fixture start(ConnectionHandler handler) throws Exception {
        Server server = jetty(new TestServlet(handler));
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return JettyConformanceTest.address(server);
            }

            @Override
            public void close() {
                try {
                    server.stop();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }
}
