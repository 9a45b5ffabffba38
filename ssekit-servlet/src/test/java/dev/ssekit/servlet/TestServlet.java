package dev.ssekit.servlet;

import dev.ssekit.testkit.SseConformanceSuite.ConnectionHandler;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Starts a stream and runs the suite's handler on a virtual thread (the container thread returns). */
final class TestServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient ConnectionHandler handler;

    TestServlet(ConnectionHandler handler) {
        this.handler = handler;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        var conn = ServletSse.start(req, resp);
        String q = req.getQueryString();
        Thread.ofVirtual().start(() -> {
            try {
                handler.handle(conn, q == null ? "" : q);
            } catch (Exception e) {
                conn.close();
                throw new RuntimeException(e);
            }
        });
    }
}
