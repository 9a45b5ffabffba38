package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A 1.0 hub (the test key, a 1 MiB body, 10 s header timeout) and its clients over raw sockets: the
 * setup {@link HubCompileAdmissionTest} and {@link HubSubscriptionCompileTest} share ({@link
 * #forQueries}: QUERY subscriptions on raw sockets) and {@link SubscriptionEventsHubTest} and {@link
 * SubscriptionWatchersHubTest} share ({@link #forSubscriptionEvents}: subscribers over {@link RawHttp}).
 * {@link #close()} closes the clients, then the hub, then its broadcaster. Not thread-safe.
 */
final class HubOverSockets implements AutoCloseable {

    final Broadcaster broadcaster;
    final MercureHub hub;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<RawHttp> subscribers = new ArrayList<>();

    private HubOverSockets(Broadcaster broadcaster, MercureHub hub) {
        this.broadcaster = broadcaster;
        this.hub = hub;
    }

    private static HubOverSockets start(boolean anonymous, int maxTopics, int maxConnections, boolean subscriptionEvents,
            String issuer, String hubUrl, UnaryOperator<HubConfig> more, ConnectionLifetime.Settings lifetime) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster broadcaster = Broadcaster.create();
        HubConfig config = more.apply(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, anonymous, Set.of(), 1 << 20,
                maxTopics, maxConnections, subscriptionEvents, false, "", Duration.ofSeconds(10), Optional.empty())
                .withProtocol(HubConfig.Protocol.modern(issuer, key, key, hubUrl)));
        try {
            return new HubOverSockets(broadcaster, MercureHub.start(config, lifetime, broadcaster, Scheduler.system(), Clock.systemUTC()));
        } catch (RuntimeException e) {
            broadcaster.close();
            throw e;
        }
    }

    /**
     * The compile tests' hub: issuer and hub URL on {@code https://localhost}, at most 10 topics and 100 connections.
     *
     * @param anonymous whether subscribers without a token are accepted
     * @param subscriptionEvents whether subscription events are on
     * @param more changes to the settings (limits, say)
     * @param lifetime drain and maximum connection age
     */
    static HubOverSockets forQueries(boolean anonymous, boolean subscriptionEvents, UnaryOperator<HubConfig> more,
            ConnectionLifetime.Settings lifetime) {
        return start(anonymous, 10, 100, subscriptionEvents, "https://localhost", "https://localhost/.well-known/mercure", more,
                lifetime);
    }

    /**
     * The subscription events tests' hub: subscription events on, anonymous subscribers allowed, the
     * issuer {@link SubscriptionEventsHubTest#ISSUER} and hub URL {@link SubscriptionEventsHubTest#HUB},
     * at most 100 topics and 1,000 connections.
     */
    static HubOverSockets forSubscriptionEvents() {
        return start(true, 100, 1000, true, SubscriptionEventsHubTest.ISSUER, SubscriptionEventsHubTest.HUB, c -> c,
                ConnectionLifetime.Settings.NONE);
    }

    /** A socket connected to the hub (60 s read timeout), closed with the hub. */
    Socket connect() throws Exception {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(hub.address(), 5000);
        s.setSoTimeout(60_000);
        return s;
    }

    /** Sends a QUERY subscription with this form {@code body} and extra {@code headers} (each ending in CRLF) on a new socket. */
    Socket query(String headers, String body) throws Exception {
        Socket socket = connect();
        HubSockets.send(socket, "QUERY " + MercureProtocol.PATH + " HTTP/1.1\r\nHost: localhost\r\n" + headers
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        return socket;
    }

    /** A subscriber (GET over {@link RawHttp}) with this query and headers, closed with the hub; asserts the hub answered 200. */
    RawHttp subscribe(String query, String... headers) throws Exception {
        RawHttp c = RawHttp.get(hub.address(), MercureProtocol.PATH + "?" + query, "HTTP/1.1", headers);
        subscribers.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    /** The status line of a response, read byte by byte (the stream stays open after it). */
    static String statusLine(Socket s) throws Exception {
        StringBuilder status = new StringBuilder();
        for (int c; (c = s.getInputStream().read()) >= 0 && c != '\n';) {
            status.append((char) c);
        }
        return status.toString().strip();
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
        for (Socket s : sockets) {
            s.close();
        }
        for (RawHttp c : subscribers) {
            c.close();
        }
        hub.close();
        broadcaster.close();
    }
}
