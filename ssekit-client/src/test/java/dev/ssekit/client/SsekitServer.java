package dev.ssekit.client;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** ssekit's own server (the JDK adapter) answering /sse with a scripted handler. */
final class SsekitServer implements AutoCloseable {

    interface Handler {
        void handle(SseConnection connection) throws IOException;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    SsekitServer(Handler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/sse", exchange -> handler.handle(Sse.start(exchange)));
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/sse");
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
