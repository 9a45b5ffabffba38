package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** RedisPresence: the notices of writes that failed are sent once, decided on what Redis holds. */
@Timeout(60)
class RedisPresenceOutageTest {

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        redis.close();
    }

    /**
     * A put that reached Redis though its answer was lost (the connection closed before the reply),
     * then a removal that never got an answer: once the link is back, the rewrite must not announce
     * the put again (the hash holds it), and the removal's notice is heard once (whether the held
     * removal ran late or the rewrite sent it).
     */
    @Test
    void aPutWhoseAnswerWasLostIsNotAnnouncedTwice() throws Exception {
        RedisProxy proxy = RedisProxy.start(redis.port());
        closeables.add(proxy);
        RedisEventLog logA = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1)).build();
        closeables.add(logA);
        RedisEventLog logB = RedisEventLog.builder(proxy.uri()).timeout(Duration.ofSeconds(1)).build();
        closeables.add(logB);
        RedisPresence a = logA.presence(Duration.ofSeconds(10), 1000); // never drops B during the test
        closeables.add(a);
        RedisPresence b = logB.presence(Duration.ofSeconds(10), 1000);
        closeables.add(b);
        List<String> onA = new CopyOnWriteArrayList<>();
        a.follow(r -> onA.add(r.data()));
        b.put("s0", "v0", List.of(new RedisPresence.Notice("t0", "s0 active")));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s0 active"));

        // the proxy tells an "append" by ':idem:' in the command: here, s1's notice
        proxy.dropAfterAppend(true);
        b.put("s1", "v1", List.of(new RedisPresence.Notice("t1", "s1 active :idem:")));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.drops() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s1 active :idem:")); // it ran in Redis
        b.remove("s0", List.of(new RedisPresence.Notice("t0", "s0 inactive")));
        Thread.sleep(2500); // longer than the command timeout: both writes failed as far as B can tell
        proxy.pass();

        await().atMost(Duration.ofSeconds(20)).until(() -> onA.contains("s0 inactive"));
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(a.list().toCompletableFuture().get().values()).containsExactly("v1"));
        Thread.sleep(4000); // beyond B's next heartbeat (every 3.3 s): any rewrite has run
        assertThat(Collections.frequency(onA, "s1 active :idem:")).as("s1's put announced once").isEqualTo(1);
        assertThat(Collections.frequency(onA, "s0 inactive")).as("s0's removal announced once").isEqualTo(1);
    }

    /**
     * While a write failed and Redis is away, a subscriber that starts and ends (its put and removal
     * coalesced in the pending changes) and one that starts after it: once Redis is back, the failed
     * removal's notice (Redis still holds the entry) and the waiting ones are each appended once, a
     * key's in call order, and the listing is what the node holds.
     */
    @Test
    void changesCoalescedWhileRedisIsAwayLoseNoNoticeAndRepeatNone() throws Exception {
        RedisEventLog logA = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1)).build();
        closeables.add(logA);
        RedisEventLog logB = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1)).build();
        closeables.add(logB);
        RedisPresence a = logA.presence(Duration.ofSeconds(10), 1000); // never drops B during the test
        closeables.add(a);
        RedisPresence b = logB.presence(Duration.ofSeconds(10), 1000);
        closeables.add(b);
        List<String> onA = new CopyOnWriteArrayList<>();
        a.follow(r -> onA.add(r.data()));
        b.put("s0", "v0", List.of(new RedisPresence.Notice("t0", "s0 active")), List.of(new RedisPresence.Notice("t0", "s0 bye")));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s0 active"));

        redis.kill();
        b.remove("s0", List.of(new RedisPresence.Notice("t0", "s0 inactive"))); // its write fails
        b.put("s1", "v1", List.of(new RedisPresence.Notice("t1", "s1 active")), List.of(new RedisPresence.Notice("t1", "s1 bye")));
        b.remove("s1", List.of(new RedisPresence.Notice("t1", "s1 inactive")));
        b.put("s2", "v2", List.of(new RedisPresence.Notice("t2", "s2 active")), List.of(new RedisPresence.Notice("t2", "s2 bye")));
        Thread.sleep(2500); // longer than the command timeout: the removal failed, the rest waits
        redis.restart();

        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(a.list().toCompletableFuture().get().values()).containsExactly("v2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s2 active") && onA.contains("s0 inactive"));
        Thread.sleep(4000); // beyond B's next heartbeat (every 3.3 s): any rewrite has run
        assertThat(Collections.frequency(onA, "s0 active")).isEqualTo(1);
        assertThat(Collections.frequency(onA, "s0 inactive")).as("the failed removal's notice, once").isEqualTo(1);
        assertThat(Collections.frequency(onA, "s2 active")).as("the waiting put's notice, once").isEqualTo(1);
        assertThat(Collections.frequency(onA, "s1 active")).as("s1 started and ended: both notices or neither")
                .isEqualTo(Collections.frequency(onA, "s1 inactive")).isLessThanOrEqualTo(1);
        if (onA.contains("s1 active")) {
            assertThat(onA.indexOf("s1 active")).as("a key's notices in call order").isLessThan(onA.indexOf("s1 inactive"));
        }
        assertThat(onA).as("no farewell: B was never dropped").noneMatch(d -> d.endsWith("bye"));
    }
}
