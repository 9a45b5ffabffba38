package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RestoreArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Adversarial review 4 (rev3): RedisPresence's repair model (write sequence, epoch, dropped marks, reannounce). */
@Timeout(45)
class RedisPresenceReview4Test {

    private static final String PREFIX = "{ssekit}:presence:";

    @TempDir
    Path dir;

    private PresenceFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new PresenceFixture(dir);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    private static List<RedisPresence.Notice> n(String data) {
        return List.of(new RedisPresence.Notice("t", data));
    }

    private static long count(List<String> heard, String data) {
        return heard.stream().filter(data::equals).count();
    }

    private boolean inNodeSet(RedisPresence p) throws IOException {
        return !f.redis.command("ZSCORE", PREFIX + "nodes", p.node()).equals("$-1");
    }

    /** Waits until {@code p} completed a heartbeat that started after this call. */
    private static void awaitFreshBeat(RedisPresence p) {
        long b = p.beats();
        await().atMost(Duration.ofSeconds(15)).until(() -> p.beats() >= b + 1);
    }

    // Defect R4-1 (a lost "active"): arrived() (RedisPresence.java:856) tells "the node's heartbeat may have expired"
    // from the SEND times of two answered writes (sent - lastConfirmedSent >= ttl), not from when the new one's
    // answer came. A heartbeat sent 1/3 ttl after the last answered one, held in transit longer than the ttl (a
    // paused link / a stopped process / a slow Redis), lets another node drop this one (farewells said and heard);
    // if Redis then loses its data set (FLUSHALL, a restart without persistence) before the held heartbeat runs, that
    // heartbeat finds the node absent with a new epoch and no mark, takes it for "Redis lost writes it had answered"
    // and re-lists the entries silently (rewrite(false), RedisPresence.java:948): listed again, its farewell never
    // followed by an "active". The Javadoc promises "announced again ... or no write of it was answered for its time
    // to live" and "none loses one".
    @Test
    void aHeartbeatHeldLongerThanTheTtlThenRedisLosingItsDataAnnouncesTheEntriesAgain() throws Exception {
        RedisPresence watcher = f.presence(f.log(Duration.ofSeconds(2)), Duration.ofSeconds(2), 10_000);
        List<String> heard = PresenceFixture.heard(watcher);
        RedisProxy proxy = f.proxy();
        RedisPresence p = f.presence(f.log(proxy, Duration.ofSeconds(10)), Duration.ofSeconds(2), 10_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));

        awaitFreshBeat(p); // its next heartbeat goes ~667 ms after this one: into the paused link
        proxy.pause();
        // the watcher's heartbeat drops the node once its 2 s ttl passed: its farewell said, heard
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 inactive"));
        assertThat(f.redis.command("FLUSHALL")).isEqualTo("+OK"); // then Redis loses every key
        proxy.pass(); // the held heartbeat (sent ~0.7 s after the last answered write, answered > 2 s after it) runs

        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> PresenceFixture.list(watcher).values().contains("v1"));
        f.mark(heard);
        assertThat(PresenceFixture.withoutMarkers(heard)).as("notices heard: k1 listed again after its farewell")
                .endsWith("k1 active");
    }

    // Defect R4-2 (an "active" heard twice): a node dropped (mark set, farewells said) whose first write after the
    // drop is a put whose answer is lost though Redis ran it (held in transit past the command timeout): CHANGE
    // appended the put's "active" after the farewells, but change() failed (RedisPresence.java:796-808), so the key
    // is not in `announced`; the next heartbeat finds the mark, startReannounce() and rewrite(true) passes every
    // key with again = true (RedisPresence.java:903-906: C = '0', the `was` check skipped), so the put's "active"
    // is appended a second time. The Javadoc: "a write that reached Redis though its answer was lost is not
    // announced twice"; "An entry is announced once".
    @Test
    void aPutAfterADropWhoseAnswerIsLostIsAnnouncedOnce() throws Exception {
        RedisPresence watcher = f.presence(f.log(Duration.ofSeconds(2)), Duration.ofSeconds(30), 10_000);
        List<String> heard = PresenceFixture.heard(watcher);
        RedisProxy proxy = f.proxy();
        RedisPresence p = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofSeconds(9), 10_000); // beats every 3 s
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));

        awaitFreshBeat(p); // ~3 s to the next one
        // its heartbeat expired (as when stopped): the next listing drops it, its farewell said
        assertThat(f.redis.command("ZADD", PREFIX + "nodes", "0", p.node())).isEqualTo(":0");
        PresenceFixture.list(watcher);
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k1 inactive"));

        proxy.pause();
        p.put("k2", "v2", n("k2 active"), n("k2 inactive"));
        PresenceFixture.awaitFailedWrite(p); // the 1 s command timeout: the answer is lost
        proxy.pass(); // ... but Redis runs the CHANGE now: "k2 active" appended after the farewells
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k2 active"));

        // the next heartbeat finds the mark and announces the node's entries again: k1 is back
        await().atMost(Duration.ofSeconds(15)).until(() -> count(heard, "k1 active") == 2);
        f.mark(heard);
        assertThat(count(heard, "k2 active")).as("'k2 active' heard, in %s", heard).isEqualTo(1L);
    }

    /** Every key of the presence with its value (DUMP) and time to live: a snapshot, as an RDB file or a replica holds. */
    private static Map<String, Object[]> snapshot(RedisCommands<String, String> r) {
        Map<String, Object[]> out = new LinkedHashMap<>();
        for (String k : r.keys(PREFIX + "*")) {
            out.put(k, new Object[] {r.dump(k), r.pttl(k)});
        }
        return out;
    }

    /** Redis back at the snapshot (a failover to a replica that had not received the later writes). */
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

    // Defect R4-4 (a lost "active"): a node cut off longer than its ttl is dropped (farewells said, heard); Redis then
    // rolls back to a snapshot taken before the drop (a failover to a replica the drop had not reached), in which the
    // node is still in the node set (with an expired score) and has no mark. If the node's heartbeat comes before any
    // other node's reap, arrive's ZADD finds it present (absent = false), no mark, the same epoch: arrived()
    // (RedisPresence.java:857-864) consults mayHaveExpired only when absent, and the write sequence (untouched by
    // heartbeats) shows no loss when the node wrote nothing after the snapshot: nothing is rewritten or announced.
    // The entry stays listed while every node heard its farewell last. Even with a write after the snapshot,
    // stored < confirmedSeq only re-lists silently (RedisPresence.java:948).
    @Test
    void aNodeDroppedThenRolledBackToBeforeTheDropAnnouncesItsEntriesAgain() throws Exception {
        RedisPresence watcher = f.presence(f.log(Duration.ofSeconds(2)), Duration.ofSeconds(30), 10_000); // beats every 10 s
        List<String> heard = PresenceFixture.heard(watcher);
        RedisProxy proxy = f.proxy();
        RedisPresence p = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofMillis(1500), 10_000);
        RedisClient client = RedisClient.create(f.redis.uri());
        f.closeLater((AutoCloseable) client::shutdown);
        StatefulRedisConnection<String, String> c = f.closeLater(client.connect());
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));
        awaitFreshBeat(p);
        Map<String, Object[]> snap = snapshot(c.sync()); // the node live, k1 listed

        proxy.cut(); // the node cut off
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            return c.sync().zscore(PREFIX + "nodes", p.node()) < redisMillis(c);
        });
        PresenceFixture.list(watcher); // its heartbeat expired: dropped, its farewell said
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k1 inactive"));

        rollBack(c.sync(), snap);
        proxy.pass(); // back: its heartbeat (every 500 ms) renews it before the watcher's next heartbeat
        await().atMost(Duration.ofSeconds(8)).until(() -> c.sync().zscore(PREFIX + "nodes", p.node()) > redisMillis(c));
        awaitFreshBeat(p);
        awaitFreshBeat(p);

        assertThat(PresenceFixture.list(watcher).values()).as("listed after the rollback").contains("v1");
        f.mark(heard);
        assertThat(PresenceFixture.withoutMarkers(heard)).as("notices heard: k1 listed after its farewell")
                .endsWith("k1 active");
    }

    private static double redisMillis(StatefulRedisConnection<String, String> c) {
        return Long.parseLong(c.sync().time().getFirst()) * 1000.0;
    }
}
