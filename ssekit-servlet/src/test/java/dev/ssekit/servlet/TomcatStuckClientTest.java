package dev.ssekit.servlet;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import dev.ssekit.testkit.StuckClientSuite;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.concurrent.BlockingQueue;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;

/** Issue #31 on embedded Tomcat 11, default connector settings. */
class TomcatStuckClientTest extends StuckClientSuite {

    @Override
    protected Fixture start(SseOptions options, BlockingQueue<SseConnection> streams) throws Exception {
        File base = Files.createTempDirectory("tomcat").toFile();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        tomcat.setHostname("127.0.0.1");
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        // Tomcat's default connectionTimeout (60 s), set explicitly: the suite's bounds (sender released
        // within 6 s of close(), client sees the end within 20 s) must hold by ssekit's own abort, not
        // by Tomcat closing an idle/stuck connection at its timeout
        tomcat.getConnector().setProperty("connectionTimeout", "60000");
        Context context = tomcat.addContext("", base.getAbsolutePath());
        Wrapper w = Tomcat.addServlet(context, "stuck", new StuckServlet(options, streams));
        w.setAsyncSupported(true);
        w.addMapping(PATH);
        tomcat.start();
        int port = tomcat.getConnector().getLocalPort();
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return new InetSocketAddress("127.0.0.1", port);
            }

            @Override
            public void close() throws Exception {
                tomcat.stop();
                tomcat.destroy();
            }
        };
    }
}
