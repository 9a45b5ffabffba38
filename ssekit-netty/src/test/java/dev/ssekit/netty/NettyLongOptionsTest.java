package dev.ssekit.netty;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssekit.SseMessage;
import dev.ssekit.SseOptions;
import dev.ssekit.testkit.RawHttp;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of issue #31: {@link SseOptions} accepts any positive duration; the longest ones (past a
 * {@code long} of nanoseconds) must give a working stream on Netty too, not an {@link
 * ArithmeticException} once the head is out.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class NettyLongOptionsTest {

    @Test
    void theLongestDurationsTheBuilderAcceptsGiveAWorkingStream() throws Exception {
        SseOptions forever = SseOptions.builder().writeTimeout(Duration.ofSeconds(Long.MAX_VALUE))
                .closeGrace(ChronoUnit.FOREVER.getDuration()).build();
        try (NettySseServer server = NettySseServer.builder().connectionOptions(forever)
                .route("/sse", (request, conn) -> {
                    conn.send(SseMessage.of("hello"));
                    conn.close();
                })
                .start();
                RawHttp client = RawHttp.get(server.address(), "/sse", "HTTP/1.1")) {
            client.socket.setSoTimeout(10_000);
            String body = client.readToEnd();
            assertTrue(body.contains("data: hello") && body.contains("event: close"), body);
        }
    }
}
