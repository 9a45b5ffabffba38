package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.redis.RedisNodes.Node;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of issue #29: Redis rolled back (as from an older snapshot) while a node that read past
 * the snapshot cannot reach Redis (held by a proxy, as under {@code kill -STOP} or a partition),
 * and a node that never saw the lost sequences publishes past them before the first node is back.
 * The counter is then above what the first node has seen, so the counter check alone trusts the
 * epoch: the first node must still notice that the stream it follows is not the one it read.
 */
@Timeout(60)
class RedisRollbackReviewTest {

    /** What a restart from the snapshot taken after sequence 3 leaves: entries 1-3, the counter at 3, the epoch key. */
    private static final String ROLL_BACK_TO_3 = """
            local kept = redis.call('XRANGE', KEYS[1], '-', '0-3')
            redis.call('DEL', KEYS[1])
            for _, e in ipairs(kept) do redis.call('XADD', KEYS[1], e[1], unpack(e[2])) end
            redis.call('SET', KEYS[2], 3)
            return #kept
            """;

    @TempDir
    Path dir;

    private RedisServer redis;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        RedisNodes.closeAll(closeables);
        redis.close();
    }

    private Node node(String uri) throws Exception {
        return RedisNodes.node(RedisEventLog.builder(uri), closeables);
    }

    private static String publish(Node n, String data) {
        return RedisNodes.publish(n, data);
    }

    @Test
    void aNodeBackAfterARollbackThatOthersPublishedPastIsToldAndNeverReusesIds() throws Exception {
        RedisProxy proxy = RedisProxy.start(redis.port());
        closeables.add(proxy);
        Node a = node(proxy.uri());
        RawHttp onA = RawHttp.get(a.http().getAddress(), "/events", "HTTP/1.1");
        onA.socket.setSoTimeout(15_000);
        closeables.add(onA);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.broadcaster().stats().connections() == 1);
        List<String> before = new ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            before.add(publish(a, "old" + i));
        }
        assertThat(onA.events(7)).extracting(SseEvent::id).isEqualTo(before);

        proxy.pause(); // A can reach Redis no more (for less than its 5 s timeout)
        assertThat(redis.command("EVAL", ROLL_BACK_TO_3, "2", "{ssekit}:events", "{ssekit}:seq")).isEqualTo(":3");
        Node c = node(redis.uri()); // started after the rollback: it never saw sequences 4-7
        List<String> byC = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            byC.add(publish(c, "c" + i));
        }
        proxy.pass();

        // A's subscriber had old4..old7 under the ids before.get(3..6); whatever A sends now must not
        // be an event under one of those ids, and the change must be told before any new event
        SseEvent next = onA.events(1).getFirst();
        assertThat(next.type()).as("A's subscriber is told of the rollback first, got %s (C's ids %s)", next, byC)
                .isEqualTo("reset");
        String after = publish(c, "after");
        assertThat(before).as("a new id after the rollback").doesNotContain(after);
        SseEvent live = onA.events(1).getFirst();
        assertThat(live.id()).isEqualTo(after);
        assertThat(live.data()).isEqualTo("after");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(a.log().epoch()).isEqualTo(c.log().epoch()));
        assertThat(a.log().epochChanges()).isGreaterThanOrEqualTo(1);
    }
}
