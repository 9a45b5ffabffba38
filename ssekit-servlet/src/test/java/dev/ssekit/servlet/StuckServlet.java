package dev.ssekit.servlet;

import dev.ssekit.SseConnection;
import dev.ssekit.SseOptions;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;

/** Starts a stream with the given options, hands it to the test and returns (the stream stays open). */
final class StuckServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient SseOptions options;
    private final transient BlockingQueue<SseConnection> streams;

    StuckServlet(SseOptions options, BlockingQueue<SseConnection> streams) {
        this.options = options;
        this.streams = streams;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        streams.add(ServletSse.start(req, resp, options));
    }
}
