package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.SubscriptionEventsHubTest.HUB;
import static dev.ssekit.hub.SubscriptionEventsHubTest.ISSUER;
import static dev.ssekit.hub.SubscriptionEventsHubTest.detail;
import static dev.ssekit.hub.SubscriptionEventsHubTest.enc;
import static dev.ssekit.hub.SubscriptionEventsHubTest.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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

    private Broadcaster broadcaster;
    private MercureHub hub;
    private final List<RawHttp> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        broadcaster = Broadcaster.create();
        hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 100, 1000, true,
                false, "", Duration.ofSeconds(10), Optional.empty()).withProtocol(HubConfig.Protocol.modern(ISSUER, key, key, HUB)),
                broadcaster, Scheduler.system(), Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        for (RawHttp c : clients) {
            c.close();
        }
        hub.close();
    }

    private RawHttp subscribe(String query, String... headers) throws Exception {
        RawHttp c = RawHttp.get(hub.address(), MercureProtocol.PATH + "?" + query, "HTTP/1.1", headers);
        clients.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    /** The next event about a subscription with this match (the watchers also hear of each other's). */
    private static SseEvent next(RawHttp c, String match) throws Exception {
        for (int i = 0; i < 20; i++) {
            SseEvent e = c.events(1).getFirst();
            if (match.equals(JSON.std.mapFrom(e.data()).get("match"))) {
                return e;
            }
        }
        throw new AssertionError("no event about " + match);
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
        // each spells the hub path, none can match a subscription topic
        subscribe("match_urlpattern=" + enc("https://example.com/.well-known/mercure/subscriptions/*"), bearer);
        subscribe("match=" + enc(HUB + "/subscriptions/exact/books/x"), bearer);
        subscribe("match_urlpattern=" + enc("/.well-known/mercure/other/:x"), bearer);
        subscribe("match_urlpattern=" + enc("http://localhost/.well-known/mercure/subscriptions/*"), bearer);
        // and one that can, the spec's watcher, as a control
        subscribe("match_urlpattern=" + enc(SubscriptionEventsHubTest.WATCH), bearer);
        await().atMost(Duration.ofSeconds(20)).until(() -> broadcaster.stats().connections() == 5);
        await().atMost(Duration.ofSeconds(20)).until(() -> watchers() == 1);
        Thread.sleep(200); // a late registration would show now
        assertThat(watchers()).as("only the spec's watcher").isEqualTo(1);
    }
}
