package dev.ssekit.servlet;

import dev.ssekit.Broadcaster;
import dev.ssekit.testkit.H2cCheck;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SSE over h2c on Jetty 12: 100 concurrent streams on one connection. */
@Timeout(120)
class JettyHttp2Test {

    @Test
    void hundredConcurrentStreamsOnOneConnection() throws Exception {
        try (Broadcaster hub = Broadcaster.create()) {
            Server jetty = JettyConformanceTest.jetty(new HttpServlet() {
                private static final long serialVersionUID = 1L;

                @Override
                protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                    hub.subscribe(ServletSse.start(req, resp), "h2");
                }
            });
            try {
                H2cCheck.run(URI.create("http://127.0.0.1:" + JettyConformanceTest.address(jetty).getPort() + "/sse"), hub, 100);
            } finally {
                jetty.stop();
            }
        }
    }
}
