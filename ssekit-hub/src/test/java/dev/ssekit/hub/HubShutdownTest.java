package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Graceful shutdown ends every stream properly: a {@code retry:} hint alone (a Mercure subscriber
 * must see no event the publisher did not send: an {@code event: shutdown} with {@code data:} is
 * dispatched by every EventSource, and a publisher may use that type for its own updates), then the
 * end of the chunked response, before the event loops stop. A stream's close callbacks (which free its
 * subscriber slot) run before its last bytes are written, so a hub that waited for the slots only
 * could stop its event loops under those bytes (HubMainTest saw a stream cut in the middle of its
 * last chunk once, on a loaded machine).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubShutdownTest {

    @Test
    void everyStreamGetsTheShutdownEventAndItsEndBeforeTheLoopsStop() throws Exception {
        for (int round = 0; round < 20; round++) {
            JwtVerifier key = JwtVerifier.secret(KEY);
            Broadcaster broadcaster = Broadcaster.create();
            MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024,
                    100, 100, true, false, "", Duration.ofSeconds(10), Optional.empty()), broadcaster, Scheduler.system(), Clock.systemUTC());
            List<RawHttp> streams = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    RawHttp s = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=t" + i, "HTTP/1.1");
                    assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
                    streams.add(s);
                }
                await().atMost(Duration.ofSeconds(10)).untilAsserted(
                        () -> assertThat(broadcaster.stats().connections()).as("subscribers").isEqualTo(streams.size()));
            } finally {
                hub.close();
            }
            for (RawHttp s : streams) {
                try (s) {
                    // with no drain window (the default here) too: the hint alone, drawn from [0, 1 s]
                    assertThat(s.readToEnd()).as("round %d", round).matches(":\nretry: (\\d{1,3}|1000)\n\n");
                }
            }
        }
    }
}
