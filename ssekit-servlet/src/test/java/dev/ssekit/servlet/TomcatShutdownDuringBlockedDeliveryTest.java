package dev.ssekit.servlet;

/** The shutdown-during-a-blocked-delivery check on embedded Tomcat 11 (connectionTimeout 60 s). */
class TomcatShutdownDuringBlockedDeliveryTest extends ShutdownDuringBlockedDeliverySuite {

    @Override
    Server start(RecordingServlet servlet) throws Exception {
        // only ssekit's abort may end the stuck connection within the test's bounds
        EmbeddedTomcat tomcat = EmbeddedTomcat.start("recording", servlet, PATH, EmbeddedTomcat.STUCK_CLIENT);
        return new Server() {
            @Override
            public int port() {
                return tomcat.port();
            }

            @Override
            public void close() throws Exception {
                tomcat.close();
            }
        };
    }
}
