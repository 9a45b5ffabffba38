package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RestoreArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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

    // Defect R4-5 (close() blocks far beyond its bound): when a change failed (waiting = true) the changes made
    // meanwhile are drained by resume() INSIDE beat(), i.e. inside heartbeat()'s synchronized (writes)
    // (RedisPresence.java:929-931, 951, 977-978; drain() re-enters the lock per change). close() waits 5 s for the
    // thread, then blocks on synchronized (writes) (RedisPresence.java:1137) until that whole drain ends: every
    // pending change is written, however many and however slow Redis is, and `left` is never seen by the drain.
    // The Javadoc: "The changes asked before are written for up to 5 s ... blocks up to 5 s plus one command
    // timeout plus a few seconds". Here 50 pending changes at 300 ms each (a slow link, each well within the 1 s
    // command timeout) keep close() ~15 s.
    @Test
    void closeDuringADrainResumedByAHeartbeatReturnsWithinItsBound() throws Exception {
        SlowProxy proxy = f.closeLater(SlowProxy.start(f.redis.port()));
        RedisPresence p = f.presence(f.closeLater(RedisEventLog.builder(proxy.uri()).timeout(Duration.ofSeconds(1)).build()),
                Duration.ofSeconds(3), 10_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(p));
        proxy.pause();
        p.put("k0", "v0", n("k0 active"));
        PresenceFixture.awaitFailedWrite(p); // waiting: later changes wait for a heartbeat that reaches Redis
        for (int i = 1; i <= 50; i++) {
            p.put("k" + i, "v" + i, n("k" + i + " active"));
        }
        assertThat(p.pendingKeys()).isEqualTo(50);
        proxy.pass(300); // Redis answers again, each command 300 ms late
        await().atMost(Duration.ofSeconds(15)).until(() -> p.pendingKeys() < 48); // the heartbeat's drain is under way

        long start = System.nanoTime();
        p.close();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).as("close() took %s (bound: 5 s + the 1 s command timeout + a few seconds); pending left %s",
                took, p.pendingKeys()).isLessThan(Duration.ofSeconds(10));
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

    /** A TCP proxy that can hold all traffic, or delay each client chunk by a set time (a slow Redis / link). */
    static final class SlowProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile boolean paused;
        private volatile long delayMillis;

        private SlowProxy(ServerSocket server, int target) {
            this.server = server;
            this.target = target;
        }

        static SlowProxy start(int redisPort) throws IOException {
            SlowProxy p = new SlowProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), redisPort);
            Thread.ofPlatform().daemon().name("slow-proxy-accept").start(p::accept);
            return p;
        }

        String uri() {
            return "redis://127.0.0.1:" + server.getLocalPort();
        }

        void pause() {
            paused = true;
        }

        /** Forwards again, each client chunk {@code millis} late. */
        void pass(long millis) {
            delayMillis = millis;
            paused = false;
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket();
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 2000);
                    sockets.add(client);
                    sockets.add(upstream);
                    Thread.ofPlatform().daemon().start(() -> pump(client, upstream, true));
                    Thread.ofPlatform().daemon().start(() -> pump(upstream, client, false));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void pump(Socket from, Socket to, boolean up) {
            byte[] buffer = new byte[65536];
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0;) {
                    for (int i = 0; paused && i < 600; i++) { // at most 60 s held
                        Thread.sleep(100);
                    }
                    if (up && delayMillis > 0) {
                        Thread.sleep(delayMillis);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // a side closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            paused = false;
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
