package dev.ssekit.examples;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.Sse;
import dev.ssekit.SseMessage;
import dev.ssekit.TopicSelector;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/** The README's broadcaster sample in a runnable program: subscribers of prices/*, one publish a second. */
public class BroadcasterSample {
    public static void main(String[] args) throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 8080), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        // readme:broadcaster:start
        Broadcaster hub = Broadcaster.create();                       // or Broadcaster.builder()…build()
        server.createContext("/prices", ex -> hub.subscribe(Sse.start(ex), TopicSelector.glob("prices/*")));
        String id = hub.publish(SseMessage.of("{\"ACME\":12.5}"), "prices/ACME");
        // readme:broadcaster:end
        server.start();
        System.out.println("first event " + id + "; curl -N http://127.0.0.1:8080/prices");
        for (int i = 0; ; i++) {
            Thread.sleep(1000);
            hub.publish(SseMessage.of("{\"ACME\":" + (12.5 + i % 7) + "}"), "prices/ACME");
        }
    }
}
