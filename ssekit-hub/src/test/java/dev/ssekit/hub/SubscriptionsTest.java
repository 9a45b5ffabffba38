package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventStore;
import dev.ssekit.spi.StoredEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Active-subscription updates of one subscriber are stored in the order of its start and end,
 * although each publish completes on a thread of its own (a client that connects and leaves at
 * once must never be listed as active after its "active: false").
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionsTest {

    @Test
    void aSubscribersActiveFalseIsStoredAfterItsActiveTrue() throws Exception {
        EventStore store = EventStore.inMemory(10_000, 64 << 20, Duration.ofHours(1), Ticker.system());
        try (Broadcaster broadcaster = Broadcaster.builder().store(store).build()) {
            Subscriptions subscriptions = new Subscriptions(Publisher.local(broadcaster), true);
            int n = 300;
            for (int i = 0; i < n; i++) {
                Subscriptions.Subscriber s = subscriptions.reserve(n, List.of("https://example.com/t/" + i, "*"), Optional.empty())
                        .orElseThrow();
                subscriptions.activate(s); // both on one thread, in order, as the event loop calls them
                subscriptions.end(s);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(store.size()).as("stored").isEqualTo(4L * n));
            List<StoredEvent> stored = store.after(0);
            assertThat(stored).hasSize(4 * n);
            Map<String, Boolean> last = new HashMap<>();
            for (StoredEvent e : stored) {
                String frame = new String(e.frame(), UTF_8);
                String id = e.topics().iterator().next();
                boolean active = frame.contains("\"active\":true");
                assertThat(last.get(id)).as("%s: active %s after %s", id, active, last.get(id)).isNotEqualTo(active ? false : null);
                last.put(id, active);
            }
            assertThat(last).hasSize(2 * n).doesNotContainValue(true);
        }
    }
}
