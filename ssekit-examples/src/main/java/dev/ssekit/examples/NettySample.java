package dev.ssekit.examples;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.netty.NettySseServer;
import java.net.InetSocketAddress;

/** The README's Netty sample, runnable: {@code curl -N http://127.0.0.1:8080/events}. */
public class NettySample {
    public static void main(String[] args) throws Exception {
        Broadcaster hub = Broadcaster.create();
        // readme:netty:start
        NettySseServer server = NettySseServer.builder()
                .address(new InetSocketAddress("127.0.0.1", 8080))
                .route("/events", (request, conn) -> hub.subscribe(conn, "news"))
                .start();
        // readme:netty:end
        System.out.println("listening on " + server.address() + (server.isEpoll() ? " (epoll)" : " (nio)"));
        for (int i = 0; ; i++) {
            Thread.sleep(1000);
            hub.publish(SseMessage.of("news #" + i), "news");
        }
    }
}
