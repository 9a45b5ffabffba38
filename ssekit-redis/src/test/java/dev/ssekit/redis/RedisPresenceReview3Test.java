package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RestoreArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Adversarial review 3 (rev2): RedisPresence when Redis loses data (FLUSHALL, a rollback to an older snapshot). */
@Timeout(60)
class RedisPresenceReview3Test {

    private static final String PREFIX = "{ssekit}:presence:";

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        redis.close();
    }

    private RedisEventLog log(String uri, Duration timeout) {
        RedisEventLog log = RedisEventLog.builder(uri).timeout(timeout).build();
        closeables.add(log);
        return log;
    }

    private RedisPresence presence(RedisEventLog log, Duration ttl) {
        RedisPresence p = log.presence(ttl, 10_000);
        closeables.add(p);
        return p;
    }

    private static RedisPresence.Listing list(RedisPresence p) throws Exception {
        return p.list().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static List<RedisPresence.Notice> n(String data) {
        return List.of(new RedisPresence.Notice("t", data));
    }

    private static long count(List<String> heard, String data) {
        return heard.stream().filter(data::equals).count();
    }

    private boolean inNodeSet(RedisPresence p) throws IOException {
        return !redis.command("ZSCORE", PREFIX + "nodes", p.node()).equals("$-1");
    }

    // Defect R3-1: Redis losing every key (FLUSHALL; a restart without persistence) makes every node announce each of
    // its live entries "active" a second time, though no farewell ("inactive") was ever said for them: since 6131a02,
    // HEARTBEAT's ZADD adding a node that had joined is taken for "dropped after the mark expired" (rewrite(""),
    // RedisPresence.java:758-761), which cannot be told from "Redis lost the node set".
    @Test
    void redisLosingEveryKeyDoesNotAnnounceALiveEntryTwice() throws Exception {
        RedisEventLog log = log(redis.uri(), Duration.ofSeconds(2));
        RedisPresence watcher = presence(log, Duration.ofSeconds(3));
        List<String> heard = new CopyOnWriteArrayList<>();
        watcher.follow(r -> heard.add(r.data()));
        RedisPresence p = presence(log, Duration.ofSeconds(3));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));

        assertThat(redis.command("FLUSHALL")).isEqualTo("+OK");
        // heartbeats every second: the node finds its entries gone and writes them again
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> list(watcher).values().contains("v1"));
        // three more heartbeats of each node (a fourth may be under way: its count is not taken), then a marker
        // appended after them is heard: the reader has read whatever they appended
        long watcherBeats = watcher.beats();
        long nodeBeats = p.beats();
        await().atMost(Duration.ofSeconds(15))
                .until(() -> watcher.beats() >= watcherBeats + 3 && p.beats() >= nodeBeats + 3);
        String marker = "marker-after-beats";
        redis.command("XADD", PREFIX + "notices", "*", "t", "marker", "d", marker);
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(marker));

        assertThat(heard).as("notices heard (no 'inactive' was ever said for k1)").doesNotContain("k1 inactive");
        assertThat(count(heard, "k1 active")).as("'k1 active' heard, in %s", heard).isEqualTo(1L);
    }

    /** Every key of the presence with its value (DUMP) and time to live: a snapshot, as an RDB file or a replica holds. */
    private static Map<String, Object[]> snapshot(RedisCommands<String, String> r) {
        Map<String, Object[]> out = new LinkedHashMap<>();
        for (String k : r.keys(PREFIX + "*")) {
            out.put(k, new Object[] {r.dump(k), r.pttl(k)});
        }
        return out;
    }

    /** Redis back at the snapshot (a restart from it, a failover to a replica that had not received the later writes). */
    private static void rollBack(RedisCommands<String, String> r, Map<String, Object[]> snap) {
        for (String k : r.keys(PREFIX + "*")) {
            if (!snap.containsKey(k)) {
                r.del(k);
            }
        }
        snap.forEach((k, v) -> {
            long ttl = (Long) v[1];
            r.restore(k, (byte[]) v[0], RestoreArgs.Builder.ttl(Math.max(0, ttl)).replace());
        });
    }

    // Defect R3-2: a put that Redis acknowledged and then lost (failover to a replica it had not reached; a restart
    // from an older snapshot) is never written again: the node's heartbeat repairs only a hash that is gone
    // (HEARTBEAT returns EXISTS of the hash, RedisPresence.java:762), so the live entry is missing from every
    // node's listing (GET /.well-known/mercure/subscriptions) for as long as the node lives.
    @Test
    void aPutRedisLostInARollbackIsListedAgain() throws Exception {
        RedisEventLog log = log(redis.uri(), Duration.ofSeconds(2));
        RedisPresence watcher = presence(log, Duration.ofSeconds(3));
        RedisPresence p = presence(log, Duration.ofSeconds(3));
        RedisClient client = RedisClient.create(redis.uri());
        closeables.add(client::shutdown);
        StatefulRedisConnection<String, String> c = client.connect();
        closeables.add(c);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("a", "va", n("a active"), n("a inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().contains("va"));
        Map<String, Object[]> snap = snapshot(c.sync());
        p.put("b", "vb", n("b active"), n("b inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().contains("vb"));

        rollBack(c.sync(), snap);

        // five heartbeats of the node (every second) to write what it holds again
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(list(watcher).values()).as("listed after the rollback")
                        .containsExactlyInAnyOrder("va", "vb"));
    }

    // Defect R3-2 (ghost): the same for a removal Redis acknowledged and then lost: the ended entry stays listed on
    // every node (a ghost subscription in the API) for as long as its node lives.
    @Test
    void aRemovalRedisLostInARollbackIsNotListedAgain() throws Exception {
        RedisEventLog log = log(redis.uri(), Duration.ofSeconds(2));
        RedisPresence watcher = presence(log, Duration.ofSeconds(3));
        RedisPresence p = presence(log, Duration.ofSeconds(3));
        RedisClient client = RedisClient.create(redis.uri());
        closeables.add(client::shutdown);
        StatefulRedisConnection<String, String> c = client.connect();
        closeables.add(c);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("a", "va", n("a active"), n("a inactive"));
        p.put("b", "vb", n("b active"), n("b inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().size() == 2);
        Map<String, Object[]> snap = snapshot(c.sync());
        p.remove("b", n("b inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> !list(watcher).values().contains("vb"));

        rollBack(c.sync(), snap);

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(list(watcher).values()).as("listed after the rollback").containsExactly("va"));
    }

    // Defect R3-3: after Redis lost writes (the same rollback), the version counts again from the snapshot's value,
    // so a version already given for one listing is given for another: the API's ETag ("<cursor>/<version>")
    // repeats, and a client holding the first listing gets 304 for a different one. bump()/version() (the NOW
    // script, RedisPresence.java:91-103) reseed only a missing key, never one that went back.
    @Test
    void aVersionIsNotGivenAgainForAnotherListingAfterARollback() throws Exception {
        RedisEventLog log = log(redis.uri(), Duration.ofSeconds(2));
        RedisPresence watcher = presence(log, Duration.ofSeconds(30));
        RedisPresence p = presence(log, Duration.ofSeconds(30));
        RedisClient client = RedisClient.create(redis.uri());
        closeables.add(client::shutdown);
        StatefulRedisConnection<String, String> c = client.connect();
        closeables.add(c);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("a", "va", n("a active"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().contains("va"));
        Map<String, Object[]> snap = snapshot(c.sync());
        p.put("b", "vb", n("b active"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().contains("vb"));
        RedisPresence.Listing before = list(watcher);

        rollBack(c.sync(), snap);
        p.put("c", "vc", n("c active"));
        await().atMost(Duration.ofSeconds(10)).until(() -> list(watcher).values().contains("vc"));
        RedisPresence.Listing after = list(watcher);

        assertThat(after.values()).as("listing %s", after).isNotEqualTo(before.values());
        assertThat(after.version()).as("version of %s, given before for %s", after, before).isNotEqualTo(before.version());
    }
}
