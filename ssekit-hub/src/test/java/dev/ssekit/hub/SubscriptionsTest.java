package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.StoredEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Active-subscription updates of one subscriber are stored in the order of its start and end, and
 * of its selectors in the request, although each publish completes on a thread of its own (a client that connects and leaves at
 * once must never be listed as active after its "active: false").
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionsTest {

    @Test
    void aSubscribersUpdatesAreStoredInRequestOrderActiveThenEnded() throws Exception {
        EventLog history = EventLog.inMemory(10_000, 64 << 20, Duration.ofHours(1), Ticker.system());
        try (Broadcaster broadcaster = Broadcaster.builder().log(history).build()) {
            Subscriptions subscriptions = new Subscriptions(broadcaster, true);
            // the updates go to the subscriptions' own broadcaster, never to the hub's history (issue #28)
            EventLog store = subscriptions.announcements().log();
            int n = Subscriptions.ANNOUNCED_HISTORY / 4;
            for (int i = 0; i < n; i++) {
                Subscriptions.Subscriber s = subscriptions.reserve(n, List.of("https://example.com/t/" + i, "*"), Optional.empty())
                        .orElseThrow();
                subscriptions.activate(s); // both on one thread, in order, as the event loop calls them
                subscriptions.end(s);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(store.size()).as("stored").isEqualTo(4L * n));
            List<StoredEvent> stored = store.after(0);
            assertThat(stored).hasSize(4 * n);
            // per subscriber, in storage order: its subscriptions in request order, active, then ended
            Map<String, List<String>> bySubscriber = new HashMap<>();
            for (StoredEvent e : stored) {
                String frame = new String(e.frame(), UTF_8);
                Map<String, Object> json = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(frame.substring(frame.indexOf("data: ") + 6).strip());
                bySubscriber.computeIfAbsent((String) json.get("subscriber"), k -> new java.util.ArrayList<>())
                        .add(json.get("match") + " " + json.get("active"));
            }
            assertThat(bySubscriber).hasSize(n);
            bySubscriber.forEach((subscriber, updates) -> {
                String topic = updates.getFirst().split(" ")[0];
                assertThat(topic).startsWith("https://example.com/t/");
                assertThat(updates).as(subscriber).containsExactly(topic + " true", "* true", topic + " false", "* false");
            });
            assertThat(history.size()).as("the hub's history").isZero();
            subscriptions.close();
        }
    }
}
