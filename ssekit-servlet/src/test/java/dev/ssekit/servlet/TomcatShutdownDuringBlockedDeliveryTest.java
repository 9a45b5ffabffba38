package dev.ssekit.servlet;

import java.io.File;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;

/** The shutdown-during-a-blocked-delivery check on embedded Tomcat 11 (connectionTimeout 60 s). */
class TomcatShutdownDuringBlockedDeliveryTest extends ShutdownDuringBlockedDeliverySuite {

    @Override
    Server start(RecordingServlet servlet) throws Exception {
        File base = Files.createTempDirectory("tomcat").toFile();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        tomcat.setHostname("127.0.0.1");
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        // only ssekit's abort may end the stuck connection within the test's bounds
        tomcat.getConnector().setProperty("connectionTimeout", "60000");
        Context context = tomcat.addContext("", base.getAbsolutePath());
        Wrapper w = Tomcat.addServlet(context, "recording", servlet);
        w.setAsyncSupported(true);
        w.addMapping(PATH);
        tomcat.start();
        int port = tomcat.getConnector().getLocalPort();
        return new Server() {
            @Override
            public int port() {
                return port;
            }

            @Override
            public void close() throws Exception {
                tomcat.stop();
                tomcat.destroy();
            }
        };
    }
}
