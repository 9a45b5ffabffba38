package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #27, defect 4 in the hub: an update over what the file history can store and read back
 * (64 MiB a record) is answered 413 (over HTTP/1.1: an {@code h2c} upgrade has a smaller body limit of its own), not acknowledged and lost at the next restart, and not a
 * 503 the publisher would retry for ever. The hub's body limit is set above it so that the log's
 * limit is the one met.
 */
@Timeout(120)
class HubTooLargeTest {

    @TempDir
    Path data;

    @Test
    void anUpdateLargerThanTheFileHistoryCanReadBackIs413() throws Exception {
        JwtVerifier key = JwtVerifier.secret(KEY);
        EventLog log = EventLog.file(data, 100, 1L << 30, Duration.ofHours(1), Ticker.system(), false);
        Broadcaster b = Broadcaster.builder().log(log).build();
        try (MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                80 << 20, 10, 10, false, false, "", Duration.ofSeconds(10), Optional.empty())
                // room for the 64 MiB body under the cap on incomplete bodies (issue #28), which answers 503 past it
                .withLimits(HubConfig.Limits.DEFAULT.withMaxPendingBytes(128L << 20)), b, Scheduler.system(),
                Clock.systemUTC()); HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            String publisher = "Bearer " + token("{\"mercure\":{\"publish\":[\"*\"]}}");
            URI uri = URI.create("http://127.0.0.1:" + hub.address().getPort() + HubHandler.PATH);
            HttpResponse<String> tooLarge = http.send(HttpRequest.newBuilder(uri).header("Authorization", publisher)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=t&data=" + "x".repeat((64 << 20) + 1024))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(tooLarge.statusCode()).isEqualTo(413);
            assertThat(tooLarge.body()).contains("over the event log's limit of " + (64 << 20) + " bytes");
            assertThat(log.lastSequence()).as("nothing stored").isZero();
            HttpResponse<String> small = http.send(HttpRequest.newBuilder(uri).header("Authorization", publisher)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=t&data=small")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(small.statusCode()).isEqualTo(200);
            assertThat(small.body()).isEqualTo(log.epoch() + "-1");
        } finally {
            log.close();
        }
    }
}
