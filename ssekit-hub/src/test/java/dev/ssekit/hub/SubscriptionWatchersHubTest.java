package dev.ssekit.hub;

import static dev.ssekit.hub.SubscriptionEventsHubTest.HUB;
import static dev.ssekit.hub.SubscriptionEventsHubTest.detail;
import static dev.ssekit.hub.SubscriptionEventsHubTest.enc;
import static dev.ssekit.hub.SubscriptionEventsHubTest.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Who watches subscription events (issue #24): a subscriber with a token whose matcher can match a
 * topic under {@code /.well-known/mercure/subscriptions/}, resolved against the hub URL as topics are,
 * receives them whether or not the matcher spells {@code /.well-known/mercure} ({@code https://*}{@code /*},
 * a {@code :rest*} wildcard, an optional group); one whose matcher cannot match them (another host, an
 * exact matcher on an absolute URL, which never equals the hub's relative topic, another path) is not
 * made a watcher. Real sockets, a hub in its default (1.0) mode.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionWatchersHubTest {

    /** Matchers that match subscription topics without spelling the hub path. */
    private static final List<String> WATCHING = List.of("https://*/*", "/.well-known/:rest*", "/.well-known/mercur{e}?/subscriptions/*");

    private HubOverSockets fixture;
    private Broadcaster broadcaster;
    private MercureHub hub;

    @BeforeEach
    void start() {
        fixture = HubOverSockets.forSubscriptionEvents();
        broadcaster = fixture.broadcaster;
        hub = fixture.hub;
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private RawHttp subscribe(String query, String... headers) throws Exception {
        return fixture.subscribe(query, headers);
    }

    /** The next event about a subscription with this match (the watchers also hear of each other's). */
    private static SseEvent next(RawHttp c, String match) throws Exception {
        return HubOverSockets.next(c, match);
    }

    private long watchers() {
        return hub.subscriptions().announcements().stats().connections();
    }

    @Test
    void aMatcherThatMatchesSubscriptionTopicsWithoutSpellingTheHubPathWatchesThem() throws Exception {
        String bearer = "Authorization: Bearer " + token("[" + detail("subscribe", "*", "exact", null) + "]");
        List<RawHttp> watching = new ArrayList<>();
        for (String m : WATCHING) {
            watching.add(subscribe("match_urlpattern=" + enc(m), bearer));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> broadcaster.stats().connections() == WATCHING.size());
        subscribe("match=books"); // anonymous: its subscription is announced
        for (int i = 0; i < watching.size(); i++) {
            SseEvent e = next(watching.get(i), "books"); // a SocketTimeoutException after 10 s when it does not watch
            assertThat(e.type()).as(WATCHING.get(i)).isEqualTo("mercure");
            assertThat(JSON.std.mapFrom(e.data())).as(WATCHING.get(i)).containsEntry("active", true);
        }
        assertThat(watchers()).isEqualTo(WATCHING.size());
    }

    @Test
    void aMatcherThatCannotMatchSubscriptionTopicsIsNoWatcher() throws Exception {
        String bearer = "Authorization: Bearer " + token("[" + detail("subscribe", "*", "exact", null) + "]");
        // the spec's watcher first, as a control: it hears of each later subscription once it is registered
        RawHttp control = subscribe("match_urlpattern=" + enc(SubscriptionEventsHubTest.WATCH), bearer);
        await().atMost(Duration.ofSeconds(20)).until(() -> watchers() == 1);
        // each spells the hub path, none can match a subscription topic
        List<String> notWatching = List.of("https://example.com/.well-known/mercure/subscriptions/*", HUB + "/subscriptions/exact/books/x",
                "/.well-known/mercure/other/:x", "http://localhost/.well-known/mercure/subscriptions/*");
        subscribe("match_urlpattern=" + enc(notWatching.get(0)), bearer);
        subscribe("match=" + enc(notWatching.get(1)), bearer);
        subscribe("match_urlpattern=" + enc(notWatching.get(2)), bearer);
        subscribe("match_urlpattern=" + enc(notWatching.get(3)), bearer);
        // a subscriber is made a watcher (or not) before its subscriptions are announced (MercureProtocol's opener):
        // once the control heard of all four, a registration of theirs would show
        for (String m : notWatching) {
            assertThat(JSON.std.mapFrom(next(control, m).data())).as(m).containsEntry("active", true);
        }
        assertThat(watchers()).as("only the spec's watcher").isEqualTo(1);
    }
}
