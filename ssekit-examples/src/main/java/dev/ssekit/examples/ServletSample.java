package dev.ssekit.examples;

import dev.ssekit.Broadcaster;
import dev.ssekit.servlet.ServletSse;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** The README's servlet sample: a stream per request, fed by a broadcaster. */
@WebServlet(urlPatterns = "/news", asyncSupported = true)
public class ServletSample extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient Broadcaster hub = Broadcaster.create();

    // readme:servlet:start
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        hub.subscribe(ServletSse.start(req, resp), "news");   // async, container timeout off
    }
    // readme:servlet:end
}
