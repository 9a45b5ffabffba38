package dev.ssekit.examples;

// readme:server:start
import com.sun.net.httpserver.HttpServer;
import dev.ssekit.*;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

public class QuickstartServer {
    public static void main(String[] args) throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 8080), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor()); // a virtual thread per stream
        server.createContext("/clock", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                for (int i = 0; ; i++, Thread.sleep(1000))
                    sse.send(SseMessage.builder().id("" + i).data(java.time.Instant.now().toString()).build());
            } catch (java.io.IOException | InterruptedException clientLeft) { } // the client went away
        });
        server.start();
    }
}
// readme:server:end
