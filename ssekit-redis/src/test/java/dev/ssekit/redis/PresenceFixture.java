package dev.ssekit.redis;

import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * What the {@link RedisPresence} tests ({@link RedisPresenceTest}, {@link RedisPresenceOutageTest},
 * {@link RedisPresenceReviewTest}) share: a real redis-server, the logs, proxies and presences they
 * start (closed last first by {@link #close()}, best effort, then the server), listeners that record
 * the notices heard, and waits on real signals (a notice heard, a heartbeat completed, a failed write).
 */
final class PresenceFixture implements AutoCloseable {

    /** The presence notices stream of the default prefix. */
    static final String NOTICES = "{ssekit}:presence:notices";

    final RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private int markers;

    PresenceFixture(Path dir) throws IOException {
        this.redis = RedisServer.start(dir);
    }

    /** Closes {@code c} with the fixture (before what was added earlier); returns it. */
    <T extends AutoCloseable> T closeLater(T c) {
        closeables.add(c);
        return c;
    }

    /** A log on the server, default settings. */
    RedisEventLog log() {
        return closeLater(RedisEventLog.builder(redis.uri()).build());
    }

    /** A log on the server with a command timeout. */
    RedisEventLog log(Duration timeout) {
        return closeLater(RedisEventLog.builder(redis.uri()).timeout(timeout).build());
    }

    /** A log on the server through {@code proxy}, with a command timeout. */
    RedisEventLog log(RedisProxy proxy, Duration timeout) {
        return closeLater(RedisEventLog.builder(proxy.uri()).timeout(timeout).build());
    }

    /** A proxy in front of the server. */
    RedisProxy proxy() throws IOException {
        return closeLater(RedisProxy.start(redis.port()));
    }

    /** A presence (a new node) on {@code log}. */
    RedisPresence presence(RedisEventLog log, Duration ttl, long maxLength) {
        return closeLater(log.presence(ttl, maxLength));
    }

    /** A presence (a new node) on {@code log}, its dropped marks living {@code kept}. */
    RedisPresence presence(RedisEventLog log, Duration ttl, long maxLength, Duration kept) {
        return closeLater(log.presence(ttl, maxLength, kept));
    }

    /** Follows {@code p}'s notices; the list records each one's data, in order. */
    static List<String> heard(RedisPresence p) {
        List<String> heard = new CopyOnWriteArrayList<>();
        p.follow(r -> heard.add(r.data()));
        return heard;
    }

    /** {@code p}'s listing, within 10 s. */
    static RedisPresence.Listing list(RedisPresence p) throws Exception {
        return p.list().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /**
     * Appends a marker notice to the stream (as the test, not a node) and waits until each of
     * {@code heard} has it: whatever was appended before is heard by then. Returns the marker's data.
     */
    @SafeVarargs
    final String mark(List<String>... heard) throws IOException {
        String marker = "marker" + ++markers;
        redis.command("XADD", NOTICES, "*", "t", "marker", "d", marker);
        for (List<String> h : heard) {
            await().atMost(Duration.ofSeconds(10)).until(() -> h.contains(marker));
        }
        return marker;
    }

    /** {@code heard} without the markers of {@link #mark}. */
    static List<String> withoutMarkers(List<String> heard) {
        return heard.stream().filter(d -> !d.matches("marker\\d+")).toList();
    }

    /**
     * Waits until each node completed a heartbeat that started after this call (with its rewrite, if
     * any): two more than counted now, as one may be under way.
     */
    static void awaitBeats(Duration atMost, RedisPresence... nodes) {
        long[] before = new long[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            before[i] = nodes[i].beats();
        }
        for (int i = 0; i < nodes.length; i++) {
            RedisPresence p = nodes[i];
            long b = before[i];
            await().atMost(atMost).until(() -> p.beats() >= b + 2);
        }
    }

    /** Waits until a write of {@code p} failed (its later changes wait for a heartbeat that reaches Redis). */
    static void awaitFailedWrite(RedisPresence p) {
        await().atMost(Duration.ofSeconds(10)).until(() -> p.failedWrites() >= 1);
    }

    /** Closes what was started, last first (best effort), then the server. */
    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort: the server goes anyway
            }
        }
        redis.close();
    }
}
