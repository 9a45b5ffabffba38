package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
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
 * A 1.0 hub (issuer and hub URL on {@code https://localhost}, the test key) driven over raw sockets
 * with QUERY subscriptions: the setup {@link HubCompileAdmissionTest} and {@link HubSubscriptionCompileTest}
 * share. {@link #close()} closes the sockets, then the hub, then its broadcaster. Not thread-safe.
 */
final class QueryHub implements AutoCloseable {

    final Broadcaster broadcaster;
    final MercureHub hub;
    private final List<Socket> sockets = new ArrayList<>();

    private QueryHub(Broadcaster broadcaster, MercureHub hub) {
        this.broadcaster = broadcaster;
        this.hub = hub;
    }

    /**
     * Starts a hub: at most 10 topics and 100 connections, a 1 MiB body, 10 s header timeout.
     *
     * @param anonymous whether subscribers without a token are accepted
     * @param subscriptionEvents whether subscription events are on
     * @param more changes to the settings (limits, say)
     * @param lifetime drain and maximum connection age
     */
    static QueryHub start(boolean anonymous, boolean subscriptionEvents, UnaryOperator<HubConfig> more,
            ConnectionLifetime.Settings lifetime) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster broadcaster = Broadcaster.create();
        HubConfig config = more.apply(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, anonymous, Set.of(), 1 << 20, 10, 100,
                subscriptionEvents, false, "", Duration.ofSeconds(10), Optional.empty())
                .withProtocol(HubConfig.Protocol.modern("https://localhost", key, key, "https://localhost/.well-known/mercure")));
        try {
            return new QueryHub(broadcaster, MercureHub.start(config, lifetime, broadcaster, Scheduler.system(), Clock.systemUTC()));
        } catch (RuntimeException e) {
            broadcaster.close();
            throw e;
        }
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

    /** The status line of a response, read byte by byte (the stream stays open after it). */
    static String statusLine(Socket s) throws Exception {
        StringBuilder status = new StringBuilder();
        for (int c; (c = s.getInputStream().read()) >= 0 && c != '\n';) {
            status.append((char) c);
        }
        return status.toString().strip();
    }

    @Override
    public void close() throws java.io.IOException {
        for (Socket s : sockets) {
            s.close();
        }
        hub.close();
        broadcaster.close();
    }
}
