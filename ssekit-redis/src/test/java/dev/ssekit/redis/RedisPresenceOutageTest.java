package dev.ssekit.redis;

import static dev.ssekit.redis.PresenceFixture.awaitBeats;
import static dev.ssekit.redis.PresenceFixture.awaitFailedWrite;
import static dev.ssekit.redis.PresenceFixture.heard;
import static dev.ssekit.redis.PresenceFixture.list;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
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

    private PresenceFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new PresenceFixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    /**
     * A put that reached Redis though its answer was lost (the connection closed before the reply),
     * then a removal that never got an answer: once the link is back, the rewrite must not announce
     * the put again (the hash holds it), and the removal's notice is heard once (whether the held
     * removal ran late or the rewrite sent it).
     */
    @Test
    void aPutWhoseAnswerWasLostIsNotAnnouncedTwice() throws Exception {
        RedisProxy proxy = f.proxy();
        RedisPresence a = f.presence(f.log(Duration.ofSeconds(1)), Duration.ofSeconds(10), 1000); // never drops B during the test
        RedisPresence b = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofSeconds(10), 1000);
        List<String> onA = heard(a);
        b.put("s0", "v0", List.of(new RedisPresence.Notice("t0", "s0 active")));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s0 active"));

        // the proxy tells an "append" by ':idem:' in the command: here, s1's notice
        proxy.dropAfterAppend(true);
        b.put("s1", "v1", List.of(new RedisPresence.Notice("t1", "s1 active :idem:")));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.drops() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s1 active :idem:")); // it ran in Redis
        b.remove("s0", List.of(new RedisPresence.Notice("t0", "s0 inactive")));
        awaitFailedWrite(b); // the put's write failed as far as B can tell (its answer lost): the removal waits behind it
        proxy.pass();

        await().atMost(Duration.ofSeconds(20)).until(() -> onA.contains("s0 inactive"));
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(list(a).values()).containsExactly("v1"));
        awaitBeats(Duration.ofSeconds(15), b); // a heartbeat of B (every 3.3 s) from now on: any rewrite has run
        f.mark(onA); // what it appended is heard by then
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
        RedisPresence a = f.presence(f.log(Duration.ofSeconds(1)), Duration.ofSeconds(10), 1000); // never drops B during the test
        RedisPresence b = f.presence(f.log(Duration.ofSeconds(1)), Duration.ofSeconds(10), 1000);
        List<String> onA = heard(a);
        b.put("s0", "v0", List.of(new RedisPresence.Notice("t0", "s0 active")), List.of(new RedisPresence.Notice("t0", "s0 bye")));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s0 active"));

        f.redis.kill();
        b.remove("s0", List.of(new RedisPresence.Notice("t0", "s0 inactive"))); // its write fails
        b.put("s1", "v1", List.of(new RedisPresence.Notice("t1", "s1 active")), List.of(new RedisPresence.Notice("t1", "s1 bye")));
        b.remove("s1", List.of(new RedisPresence.Notice("t1", "s1 inactive")));
        b.put("s2", "v2", List.of(new RedisPresence.Notice("t2", "s2 active")), List.of(new RedisPresence.Notice("t2", "s2 bye")));
        awaitFailedWrite(b); // the removal failed, the rest waits
        f.redis.restart();

        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(list(a).values()).containsExactly("v2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> onA.contains("s2 active") && onA.contains("s0 inactive"));
        awaitBeats(Duration.ofSeconds(15), b); // a heartbeat of B (every 3.3 s) from now on: any rewrite has run
        f.mark(onA); // what it appended is heard by then
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
