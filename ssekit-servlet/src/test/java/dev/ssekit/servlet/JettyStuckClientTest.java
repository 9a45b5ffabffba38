package dev.ssekit.servlet;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import dev.ssekit.testkit.StuckClientSuite;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** Issue #31 on Jetty 12 (ee10), HTTP/1.1, default connector settings. */
class JettyStuckClientTest extends StuckClientSuite {

    @Override
    protected Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory());
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        ServletHolder holder = new ServletHolder(new StuckServlet(options, streams));
        holder.setAsyncSupported(true);
        context.addServlet(holder, PATH);
        server.setHandler(context);
        server.start();
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return new InetSocketAddress("127.0.0.1", connector.getLocalPort());
            }

            @Override
            public void close() throws Exception {
                server.stop();
            }
        };
    }
}
