package dev.ssekit.servlet;

import java.util.Map;

/** The shutdown-during-a-blocked-delivery check on embedded Tomcat 11 (connectionTimeout 60 s). */
class TomcatShutdownDuringBlockedDeliveryTest extends ShutdownDuringBlockedDeliverySuite {

    @Override
    Server start(RecordingServlet servlet) throws Exception {
        // only ssekit's abort may end the stuck connection within the test's bounds
        // and a fixed socket send buffer: with the kernel's autotuning, the buffer of a connection whose write
        // had blocked for 300 ms could still grow (3 MB received in the failing runs), the blocked write then
        // completed, and so did the end (into the buffer): a graceful end the stuck case took for a defect
        Map<String, String> connector = new java.util.HashMap<>(EmbeddedTomcat.STUCK_CLIENT);
        connector.put("socket.txBufSize", "65536");
        EmbeddedTomcat tomcat = EmbeddedTomcat.start("recording", servlet, PATH, connector);
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
