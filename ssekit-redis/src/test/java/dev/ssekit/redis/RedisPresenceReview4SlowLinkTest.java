package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review 4 (rev3): RedisPresence on a slow link (each client chunk held a set time): the writer's lock
 * and a rewrite that outlasts the command timeout. Apart from {@link RedisPresenceReview4Test} to keep each class
 * under ~30 s.
 */
@Timeout(45)
class RedisPresenceReview4SlowLinkTest {

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

    private boolean inNodeSet(RedisPresence p) throws IOException {
        return !f.redis.command("ZSCORE", PREFIX + "nodes", p.node()).equals("$-1");
    }

    // Defect R4-5 (close() blocks far beyond its bound): when a change failed (waiting = true) the changes made
    // meanwhile are drained by resume() INSIDE beat(), i.e. inside heartbeat()'s synchronized (writes)
    // (RedisPresence.java:929-931, 951, 977-978; drain() re-enters the lock per change). close() waits 5 s for the
    // thread, then blocks on synchronized (writes) (RedisPresence.java:1137) until that whole drain ends: every
    // pending change is written, however many and however slow Redis is, and `left` is never seen by the drain.
    // The Javadoc: "The changes asked before are written for up to 5 s ... blocks up to 5 s plus one command
    // timeout plus a few seconds". Here 45 pending changes at 300 ms each (a slow link, each well within the 1 s
    // command timeout) keep close() ~14 s.
    @Test
    void closeDuringADrainResumedByAHeartbeatReturnsWithinItsBound() throws Exception {
        SlowProxy proxy = f.closeLater(SlowProxy.start(f.redis.port()));
        RedisPresence p = f.presence(f.closeLater(RedisEventLog.builder(proxy.uri()).timeout(Duration.ofSeconds(1)).build()),
                Duration.ofSeconds(3), 10_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(p));
        proxy.pause();
        p.put("k0", "v0", n("k0 active"));
        PresenceFixture.awaitFailedWrite(p); // waiting: later changes wait for a heartbeat that reaches Redis
        for (int i = 1; i <= 45; i++) {
            p.put("k" + i, "v" + i, n("k" + i + " active"));
        }
        assertThat(p.pendingKeys()).isEqualTo(45);
        proxy.pass(300); // Redis answers again, each command 300 ms late
        await().atMost(Duration.ofSeconds(15)).until(() -> p.pendingKeys() < 43); // the heartbeat's drain is under way

        long start = System.nanoTime();
        p.close();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).as("close() took %s (bound: 5 s + the 1 s command timeout + a few seconds); pending left %s",
                took, p.pendingKeys()).isLessThan(Duration.ofSeconds(10));
    }

    // Defect R4-6 (the drain stuck forever, a live entry never listed): a rewrite whose answer is lost but which ran is
    // never recognised as done, though the next HEARTBEAT returns the write sequence Redis holds (stored, which then
    // equals the rewrite's): beat() only compares it with confirmedSeq (RedisPresence.java:948), `dirty` stays set,
    // resume() is not reached (the exception skips it, RedisPresence.java:951-954) and `waiting` (set by the failed
    // change, RedisPresence.java:758) is never cleared. When the rewrite (O(entries), here ~600 KB) always takes
    // longer than the command timeout while every small command is answered well within it (a slow link: each chunk
    // 200 ms late), every heartbeat sends the whole rewrite again, it runs, its answer is lost, and no later change
    // is ever written: "y" is never listed nor announced.
    @Test
    void aRewriteLongerThanTheTimeoutThatRanDoesNotStopTheChangesForever() throws Exception {
        RedisPresence watcher = f.presence(f.log(Duration.ofSeconds(2)), Duration.ofSeconds(30), 10_000);
        SlowProxy proxy = f.closeLater(SlowProxy.start(f.redis.port()));
        RedisPresence p = f.presence(f.closeLater(RedisEventLog.builder(proxy.uri()).timeout(Duration.ofSeconds(1)).build()),
                Duration.ofSeconds(6), 10_000); // beats every 2 s
        RedisClient client = RedisClient.create(f.redis.uri());
        f.closeLater((AutoCloseable) client::shutdown);
        StatefulRedisConnection<String, String> c = f.closeLater(client.connect());
        String pad = "x".repeat(4000);
        for (int i = 0; i < 150; i++) {
            p.put("k" + i, "v" + i + pad, n("k" + i + " active"));
        }
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> PresenceFixture.list(watcher).values().size() == 150);
        proxy.pause();
        p.put("x", "vx", n("x active"));
        PresenceFixture.awaitFailedWrite(p); // waiting: later changes wait for a heartbeat (and its rewrite)
        p.put("y", "vy", n("y active"));
        proxy.pass(200); // every command answered within ~200-400 ms; the ~600 KB rewrite takes ~2 s

        // the held put runs, then the heartbeat's rewrite (~600 KB, ~2 s on this link): it lands, its answer is lost
        await().atMost(Duration.ofSeconds(10)).until(() -> seq(c, p) >= 152);
        long landed = seq(c, p);
        await().atMost(Duration.ofSeconds(10)).until(() -> seq(c, p) > landed); // the next write ran too
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(PresenceFixture.list(watcher).values().contains("vy"))
                        .as("'vy' listed (node: %s keys pending, %s failed writes; its write sequence in Redis %s, then %s;"
                                + " its heartbeat expires %s ms after Redis's now)", p.pendingKeys(), p.failedWrites(),
                                landed, seq(c, p), scoreAhead(c, p))
                        .isTrue());
    }

    /** The node's write sequence as Redis holds it (0 when missing). */
    private static long seq(StatefulRedisConnection<String, String> c, RedisPresence p) {
        String v = c.sync().get(PREFIX + "seq:" + p.node());
        return v == null ? 0 : Long.parseLong(v);
    }

    /** How far the node's heartbeat expiry is ahead of Redis's time, in ms (positive: renewed). */
    private static long scoreAhead(StatefulRedisConnection<String, String> c, RedisPresence p) {
        return c.sync().eval("local t = redis.call('TIME') return math.floor(tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])"
                + " or 0) - (t[1] * 1000 + t[2] / 1000))", io.lettuce.core.ScriptOutputType.INTEGER,
                new String[] {PREFIX + "nodes"}, p.node());
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
    }}
