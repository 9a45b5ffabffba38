package dev.ssekit.servlet;

import dev.ssekit.testkit.SseConformanceSuite;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;

/** The conformance suite on embedded Tomcat 11. */
class TomcatConformanceTest extends SseConformanceSuite {

    @Override
    protected Fixture start(ConnectionHandler handler) throws Exception {
        File base = Files.createTempDirectory("tomcat").toFile();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        tomcat.setHostname("127.0.0.1");
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        Context context = tomcat.addContext("", base.getAbsolutePath());
        Wrapper w = Tomcat.addServlet(context, "sse", new TestServlet(handler));
        w.setAsyncSupported(true);
        w.addMapping("/sse");
        tomcat.start();
        int port = tomcat.getConnector().getLocalPort();
        return new Fixture() {
            @Override
            public InetSocketAddress address() {
                return new InetSocketAddress("127.0.0.1", port);
            }

            @Override
            public void close() {
                try {
                    tomcat.stop();
                    tomcat.destroy();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }
}
