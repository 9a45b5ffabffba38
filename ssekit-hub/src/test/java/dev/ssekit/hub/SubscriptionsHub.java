package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * A hub in its default (1.0) mode with subscription events on, the test issuer ({@link
 * SubscriptionEventsHubTest#ISSUER}) and hub URL ({@link SubscriptionEventsHubTest#HUB}), anonymous
 * subscribers allowed, and its subscribers over raw HTTP/1.1: the setup {@link SubscriptionEventsHubTest}
 * and {@link SubscriptionWatchersHubTest} share. {@link #close()} closes the subscribers, then the hub.
 * Not thread-safe.
 */
final class SubscriptionsHub implements AutoCloseable {

    final Broadcaster broadcaster;
    final MercureHub hub;
    private final List<RawHttp> clients = new ArrayList<>();

    private SubscriptionsHub(Broadcaster broadcaster, MercureHub hub) {
        this.broadcaster = broadcaster;
        this.hub = hub;
    }

    /** Starts the hub: at most 100 topics and 1,000 connections, a 1 MiB body, 10 s header timeout. */
    static SubscriptionsHub start() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster broadcaster = Broadcaster.create();
        return new SubscriptionsHub(broadcaster, MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true,
                Set.of(), 1 << 20, 100, 1000, true, false, "", Duration.ofSeconds(10), Optional.empty())
                .withProtocol(HubConfig.Protocol.modern(SubscriptionEventsHubTest.ISSUER, key, key, SubscriptionEventsHubTest.HUB)),
                broadcaster, Scheduler.system(), Clock.systemUTC()));
    }

    /** A subscriber with this query and headers; asserts the hub answered 200. */
    RawHttp subscribe(String query, String... headers) throws Exception {
        RawHttp c = RawHttp.get(hub.address(), MercureProtocol.PATH + "?" + query, "HTTP/1.1", headers);
        clients.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    /**
     * The next event on the stream about a subscription with this match (the watchers also hear of
     * each other's, and of the others); checks it is a hub event ({@code event: mercure}). Each read
     * is bounded by {@link RawHttp}'s own timeout; fails after 100 events about other matches.
     */
    static SseEvent next(RawHttp c, String match) throws Exception {
        for (int i = 0; i < 100; i++) {
            SseEvent e = c.events(1).getFirst();
            if (match.equals(JSON.std.mapFrom(e.data()).get("match"))) {
                assertThat(e.type()).as("the reserved event type").isEqualTo("mercure");
                return e;
            }
        }
        throw new AssertionError("no event about " + match);
    }

    @Override
    public void close() throws java.io.IOException {
        for (RawHttp c : clients) {
            c.close();
        }
        hub.close();
    }
}
