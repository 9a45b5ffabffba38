package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Adversarial review 3 (rev2): RedisPresence when the rewrite after a drop fails (the connection lost as it is sent). */
@Timeout(60)
class RedisPresenceReview3DropTest {

    private static final String PREFIX = "{ssekit}:presence:";

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** The messages (their patterns) RedisPresence logged, at every level: the writer's failures are seen here. */
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Logger presenceLog = Logger.getLogger(RedisPresence.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(String.valueOf(r.getMessage()));
        }

        @Override
        public void flush() {
            // nothing buffered
        }

        @Override
        public void close() {
            // nothing held
        }
    };
    private Level presenceLevel;

    @BeforeEach
    void start() throws Exception {
        presenceLevel = presenceLog.getLevel();
        presenceLog.setLevel(Level.ALL); // the failed heartbeat is logged at DEBUG (FINE)
        capture.setLevel(Level.ALL);
        presenceLog.addHandler(capture);
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() {
        presenceLog.removeHandler(capture);
        presenceLog.setLevel(presenceLevel);
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

    private long loggedStartingWith(String prefix) {
        return logged.stream().filter(m -> m.startsWith(prefix)).count();
    }

    /** Appends a marker notice (as the test, not a node) and waits until it is heard: what was appended before is. */
    private void mark(List<String> heard) throws IOException {
        String marker = "marker" + heard.size();
        redis.command("XADD", PREFIX + "notices", "*", "t", "marker", "d", marker);
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(marker));
    }

    // Defect R3-4: a node dropped (its farewells said) whose first write after the drop is a put: CHANGE appends the
    // put's "active" and answers dropped; the rewrite(key) that follows fails (connection lost). The dropped mark is
    // still there, so the next heartbeat runs rewrite("") (RedisPresence.java:758-761), which announces every entry
    // again, the put's too (again = true for every key, RedisPresence.java:728-731): its "active" is heard twice.
    @Test
    void aPutAfterADropWhoseRewriteFailsIsAnnouncedOnce() throws Exception {
        DropProxy proxy = DropProxy.start(redis.port(), "local fresh = ARGV[5] == '1'"); // a line of REWRITE only
        closeables.add(proxy);
        RedisEventLog watcherLog = log(redis.uri(), Duration.ofSeconds(2));
        RedisEventLog nodeLog = log(proxy.uri(), Duration.ofSeconds(1));
        RedisPresence watcher = presence(watcherLog, Duration.ofSeconds(15));
        List<String> heard = new CopyOnWriteArrayList<>();
        watcher.follow(r -> heard.add(r.data()));
        RedisPresence p = presence(nodeLog, Duration.ofSeconds(15)); // heartbeats at once, then every 5 s
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));

        // the node's heartbeat expired (as when it was stopped): the next listing drops it, its farewells said
        assertThat(redis.command("ZADD", PREFIX + "nodes", "0", p.node())).isEqualTo(":0");
        list(watcher);
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k1 inactive"));

        proxy.arm(); // the node's connection is lost whenever it sends the rewrite
        p.put("k2", "v2", n("k2 active"), n("k2 inactive"));
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k2 active"));
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.drops() > 0);
        // the rewrite failed (its command timeout, 1 s, passed; until then Lettuce sends it again on each reconnect,
        // which an early disarm would let through): the node logged it (the change's, or a heartbeat's if one ran it)
        await().atMost(Duration.ofSeconds(10)).until(() -> loggedStartingWith("presence: rewriting the entries failed")
                + loggedStartingWith("presence heartbeat failed") > 0);
        proxy.disarm();

        // the node's next heartbeat (5 s after its first) rewrites: k1 is back
        await().atMost(Duration.ofSeconds(15)).until(() -> count(heard, "k1 active") == 2);
        mark(heard); // a second 'k2 active', appended with the first 'k1 active' again, would be heard by now
        assertThat(count(heard, "k2 active")).as("'k2 active' heard, in %s", heard).isEqualTo(1L);
    }

    // Defect R3-5: a node dropped and cut off longer than the dropped mark's KEPT (1 h; here the mark deleted as its
    // expiry would) is told by HEARTBEAT's ZADD adding it (6131a02): rewrite("") re-announces its entries. When that
    // rewrite fails, the next heartbeat's ZADD no longer adds (the failed attempt's HEARTBEAT re-added the node) and
    // there is no mark: only rewrite(null) runs (RedisPresence.java:758-763), so "active" is never said again after
    // the farewell's "inactive" though the entry is listed: a lost subscription event.
    @Test
    void aNodeBackAfterItsMarkExpiredAnnouncesItsEntriesEvenIfTheFirstRewriteFails() throws Exception {
        DropProxy proxy = DropProxy.start(redis.port(), "local fresh = ARGV[5] == '1'"); // a line of REWRITE only
        closeables.add(proxy);
        RedisEventLog watcherLog = log(redis.uri(), Duration.ofSeconds(2));
        RedisEventLog nodeLog = log(proxy.uri(), Duration.ofSeconds(1));
        RedisPresence watcher = presence(watcherLog, Duration.ofSeconds(15));
        List<String> heard = new CopyOnWriteArrayList<>();
        watcher.follow(r -> heard.add(r.data()));
        RedisPresence p = presence(nodeLog, Duration.ofSeconds(15)); // heartbeats at once, then every 5 s
        await().atMost(Duration.ofSeconds(10)).until(() -> inNodeSet(watcher) && inNodeSet(p));
        p.put("k1", "v1", n("k1 active"), n("k1 inactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("k1 active"));

        // dropped (its heartbeat expired), its farewell said; then the mark expires (after KEPT, 1 h)
        assertThat(redis.command("ZADD", PREFIX + "nodes", "0", p.node())).isEqualTo(":0");
        list(watcher);
        await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("k1 inactive"));
        assertThat(redis.command("DEL", PREFIX + "dropped:" + p.node())).isEqualTo(":1");

        long failedBeats = loggedStartingWith("presence heartbeat failed");
        proxy.arm(); // the node's connection is lost whenever it sends the rewrite
        await().atMost(Duration.ofSeconds(15)).until(() -> proxy.drops() > 0); // its heartbeat 5 s after the first
        // that heartbeat's rewrite failed (its command timeout, 1 s, passed; until then Lettuce sends it again on
        // each reconnect, which an early disarm would let through): the node logged it
        await().atMost(Duration.ofSeconds(10))
                .until(() -> loggedStartingWith("presence heartbeat failed") > failedBeats);
        proxy.disarm();
        // its next heartbeat (5 s later) writes the entries again
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> list(watcher).values().contains("v1"));
        mark(heard); // what that heartbeat's rewrite appended is heard by now
        assertThat(PresenceFixture.withoutMarkers(heard))
                .as("notices heard: k1 listed again after its farewell").endsWith("k1 active");
    }

    /** A TCP proxy that, while armed, closes a client connection instead of forwarding a chunk containing a marker. */
    static final class DropProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final byte[] marker;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile boolean armed;
        private volatile int drops;

        private DropProxy(ServerSocket server, int target, String marker) {
            this.server = server;
            this.target = target;
            this.marker = marker.getBytes(StandardCharsets.ISO_8859_1);
        }

        static DropProxy start(int redisPort, String marker) throws IOException {
            DropProxy p = new DropProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), redisPort, marker);
            Thread.ofPlatform().daemon().name("drop-proxy-accept").start(p::accept);
            return p;
        }

        String uri() {
            return "redis://127.0.0.1:" + server.getLocalPort();
        }

        void arm() {
            armed = true;
        }

        void disarm() {
            armed = false;
        }

        int drops() {
            return drops;
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
            byte[] buffer = new byte[8192];
            byte[] window = new byte[0];
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0;) {
                    if (up) {
                        byte[] w = new byte[Math.min(window.length, marker.length) + n];
                        int keep = w.length - n;
                        System.arraycopy(window, window.length - keep, w, 0, keep);
                        System.arraycopy(buffer, 0, w, keep, n);
                        window = w;
                        if (armed && contains(w, marker)) {
                            drops++;
                            return; // closes both: the command never reaches Redis
                        }
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // a side closed
            }
        }

        private static boolean contains(byte[] hay, byte[] needle) {
            outer:
            for (int i = 0; i + needle.length <= hay.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (hay[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return true;
            }
            return false;
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
