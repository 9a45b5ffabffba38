package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.testkit.ManualScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The status feed's cost per snapshot is bounded by what it sends ({@link StatusFeed#SHOWN} rows),
 * not by the number of subscriptions: counted as the subscribers the snapshot looks at, at 90,000
 * subscriptions, not timed.
 */
@Timeout(60)
class StatusFeedCostTest {

    private final Broadcaster broadcaster = Broadcaster.create();

    @AfterEach
    void close() {
        broadcaster.close();
    }

    @Test
    void aSnapshotLooksAtTheRowsItSendsNotAtEverySubscription() {
        int n = 90_000;
        Subscriptions subscriptions = new Subscriptions(broadcaster, false);
        ManualScheduler clock = new ManualScheduler();
        StatusFeed feed = new StatusFeed(broadcaster, subscriptions, clock, clock, Runnable::run);
        List<Subscriptions.Subscriber> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // every tenth subscriber has two selectors: rows, not subscribers, are counted and listed
            List<String> selectors = i % 10 == 0 ? List.of("https://example.com/a/" + i, "https://example.com/b/" + i)
                    : List.of("https://example.com/t/" + i);
            Subscriptions.Subscriber s = subscriptions.reserve(n, selectors, Optional.empty()).orElseThrow();
            subscriptions.activate(s);
            all.add(s);
        }
        int rows = n + n / 10;

        long before = subscriptions.examined();
        Map<String, Object> snapshot = feed.snapshot();
        long examined = subscriptions.examined() - before;
        assertThat(examined).as("subscribers the snapshot looked at, of %d", n).isLessThanOrEqualTo(StatusFeed.SHOWN + 1);
        assertThat(snapshot).containsEntry("subscriptionCount", rows);
        List<Map<String, Object>> expected = subscriptions.list(Optional.empty(), Optional.empty()).subList(0, StatusFeed.SHOWN);
        assertThat(snapshot.get("subscriptions")).as("the same first rows as the subscriptions API").isEqualTo(expected);

        // subscribers leaving (the first ones among them): count and rows follow
        List<Subscriptions.Subscriber> byId = all.stream().sorted(java.util.Comparator.comparing(Subscriptions.Subscriber::id)).toList();
        int gone = 0;
        for (Subscriptions.Subscriber s : byId.subList(0, 50)) {
            subscriptions.end(s);
            gone += s.subscriptions().size();
        }
        before = subscriptions.examined();
        snapshot = feed.snapshot();
        assertThat(subscriptions.examined() - before).isLessThanOrEqualTo(StatusFeed.SHOWN + 1);
        assertThat(snapshot).containsEntry("subscriptionCount", rows - gone);
        assertThat(snapshot.get("subscriptions"))
                .isEqualTo(subscriptions.list(Optional.empty(), Optional.empty()).subList(0, StatusFeed.SHOWN));
    }
}
