package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's client sample, run against a real server. */
@Timeout(60)
class QuickstartClientTest {

    @Test
    void printsTheFirstFiveEvents() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/clock", exchange -> {
            try (SseConnection sse = Sse.start(exchange)) {
                for (int i = 0; i < 100; i++) {
                    sse.send(SseMessage.builder().id("" + i).event("tick").data("t" + i).build());
                }
            } catch (IOException clientLeft) {
                // the sample stops after five events
            }
        });
        server.start();
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            QuickstartClient.main(new String[] {"http://127.0.0.1:" + server.getAddress().getPort() + "/clock"});
        } finally {
            System.setOut(stdout);
            server.stop(0);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8).lines())
                .containsExactly("0 tick: t0", "1 tick: t1", "2 tick: t2", "3 tick: t3", "4 tick: t4");
    }
}
