package dev.ssekit.redis;

import static dev.ssekit.redis.PresenceFixture.awaitBeats;
import static dev.ssekit.redis.PresenceFixture.heard;
import static dev.ssekit.redis.PresenceFixture.list;
import static dev.ssekit.redis.PresenceFixture.withoutMarkers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

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
 * {@link RedisPresence} on a real redis-server: entries of two nodes listed together with a version
 * that follows every change, notices read by every node in order, a node that leaves or stops
 * heartbeating drops out, and the stream stays bounded.
 */
@Timeout(60)
class RedisPresenceTest {

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

    @Test
    void twoNodesEntriesAreListedTogetherAndEveryNoticeReachesBothInOrder() throws Exception {
        RedisPresence a = f.presence(f.log(), Duration.ofSeconds(15), 1000);
        RedisPresence b = f.presence(f.log(), Duration.ofSeconds(15), 1000);
        assertThat(a.node()).matches("[0-9a-f]{32}").isNotEqualTo(b.node());
        List<RedisPresence.Received> onA = new CopyOnWriteArrayList<>();
        List<RedisPresence.Received> onB = new CopyOnWriteArrayList<>();
        a.follow(onA::add);
        b.follow(onB::add);
        long before = list(a).version();
        a.put("s1", "one", List.of(new RedisPresence.Notice("t1", "d1")));
        b.put("s2", "two", List.of(new RedisPresence.Notice("t2", "d2"), new RedisPresence.Notice("t3", "d3")));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(b).values()).containsExactlyInAnyOrder("one", "two"));
        assertThat(list(a).version()).as("the version counts the changes").isGreaterThan(before);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(onA).extracting(RedisPresence.Received::data).containsExactlyInAnyOrder("d1", "d2", "d3");
            assertThat(onB).isEqualTo(onA); // the same positions, topics and order on every node
        });
        assertThat(onA.stream().map(RedisPresence.Received::data).filter(d -> !d.equals("d1")).toList()).as("one node's notices in order")
                .containsExactly("d2", "d3");

        long listed = list(a).version();
        b.remove("s2", List.of(new RedisPresence.Notice("t2", "gone")));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(a).values()).containsExactly("one"));
        assertThat(list(a).version()).isGreaterThan(listed);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).extracting(RedisPresence.Received::data).endsWith("gone"));

        a.close(); // leaves at once, without waiting for its heartbeat to expire
        assertThat(list(b).values()).isEmpty();
    }

    @Test
    void aNodeThatStopsHeartbeatingDropsOutAndItsStreamIsBounded() throws Exception {
        RedisProxy proxy = f.proxy();
        RedisPresence quiet = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofMillis(600), 50);
        RedisPresence watcher = f.presence(f.log(), Duration.ofSeconds(15), 50);
        for (int i = 0; i < 500; i++) {
            quiet.put("k" + (i % 5), "v" + (i % 5), List.of(new RedisPresence.Notice("t", "n" + i)));
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(watcher).values()).hasSize(5));
        String len = f.redis.command("XLEN", PresenceFixture.NOTICES);
        assertThat(Long.parseLong(len.substring(1))).as("notices kept (MAXLEN ~ 50)").isLessThan(250);
        proxy.pause(); // the node is cut off from Redis: no heartbeat, no goodbye
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(watcher).values()).isEmpty());
        proxy.pass(); // back: its next heartbeat writes its entries again (what it holds, all five still live)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(watcher).values())
                .containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4"));
    }

    @Test
    void aDroppedNodesFarewellsAreAppendedOnceAndItsEntriesAnnouncedAgainWhenItComesBack() throws Exception {
        RedisProxy proxy = f.proxy();
        RedisPresence quiet = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofMillis(600), 1000);
        // two survivors heartbeating often: both find the node expired, one drops it
        RedisPresence a = f.presence(f.log(), Duration.ofMillis(600), 1000);
        RedisPresence b = f.presence(f.log(), Duration.ofMillis(600), 1000);
        List<String> onA = heard(a);
        List<String> onB = heard(b);
        for (int i = 0; i < 3; i++) {
            quiet.put("k" + i, "v" + i, List.of(new RedisPresence.Notice("t", "hello" + i)), List.of(new RedisPresence.Notice("t", "bye" + i)));
        }
        quiet.put("ends", "e", List.of(new RedisPresence.Notice("t", "hello-e")), List.of(new RedisPresence.Notice("t", "bye-e")));
        // written before it ends (a put and removal both queued before the writer took the put cancel out: review i24o)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).contains("hello-e"));
        quiet.remove("ends", List.of(new RedisPresence.Notice("t", "ended-e")));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).endsWith("ended-e"));

        proxy.pause(); // cut off: no heartbeat, no goodbye
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).contains("bye0", "bye1", "bye2"));
        assertThat(list(a).values()).as("dropped from the listing as its farewells were appended").isEmpty();
        awaitBeats(Duration.ofSeconds(10), a, b); // heartbeats of both survivors after the drop: nothing appended twice
        f.mark(onA, onB); // what they appended is heard by then
        assertThat(withoutMarkers(onA)).as("every farewell once, a removed entry's none").containsExactlyInAnyOrder("hello0", "hello1", "hello2",
                "hello-e", "ended-e", "bye0", "bye1", "bye2");

        // ends while cut off: if it ends before the node is back, its farewell said it (nothing appended);
        // if the node is back first (its removal waits for a heartbeat that is under way), it is announced
        // again, then ended: which comes first is up to the threads, either way a reader's view is right
        quiet.remove("k2", List.of(new RedisPresence.Notice("t", "ended2")));
        proxy.pass(); // back: what it still holds is announced again
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list(a).values()).containsExactlyInAnyOrder("v0", "v1"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(withoutMarkers(onA).subList(8, withoutMarkers(onA).size()))
                .as("announced again after the farewells").contains("hello0", "hello1"));
        awaitBeats(Duration.ofSeconds(10), quiet, a, b); // heartbeats of every node once it is back: nothing more
        f.mark(onA, onB);
        List<String> back = List.copyOf(withoutMarkers(onA).subList(8, withoutMarkers(onA).size()));
        assertThat(back).as("after the farewells").isIn(List.of("hello0", "hello1"), List.of("hello0", "hello1", "hello2", "ended2"));
        assertThat(onB).as("the same notices, in the same order, on every node").isEqualTo(onA);

        quiet.close(); // leaves: its farewells appended at once, by itself
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(withoutMarkers(onA).subList(8 + back.size(),
                withoutMarkers(onA).size())).containsExactlyInAnyOrder("bye0", "bye1"));
        assertThat(list(a).values()).isEmpty();
    }

    /**
     * A node cut off from Redis for longer than its dropped mark lives ({@code kept}: 1 h by default, 300 ms
     * here) comes back absent from the node set and without a mark: it counts as dropped all the same and
     * announces its entries again (its readers heard their farewells), not re-listed silently (commit 6131a02).
     */
    @Test
    void aNodeCutOffLongerThanItsDroppedMarkLivesAnnouncesItsEntriesAgain() throws Exception {
        RedisProxy proxy = f.proxy();
        RedisPresence quiet = f.presence(f.log(proxy, Duration.ofSeconds(1)), Duration.ofMillis(600), 1000, Duration.ofMillis(300));
        // the node that drops it sets the mark, with its own kept
        RedisPresence a = f.presence(f.log(), Duration.ofMillis(600), 1000, Duration.ofMillis(300));
        List<String> onA = heard(a);
        for (int i = 0; i < 2; i++) {
            quiet.put("k" + i, "v" + i, List.of(new RedisPresence.Notice("t", "hello" + i)), List.of(new RedisPresence.Notice("t", "bye" + i)));
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).containsExactlyInAnyOrder("hello0", "hello1"));

        proxy.cut(); // its connections closed, new ones refused: its heartbeats fail at once, none runs late
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).contains("bye0", "bye1")); // dropped by A
        String mark = "{ssekit}:presence:dropped:" + quiet.node();
        await().atMost(Duration.ofSeconds(10)).until(() -> f.redis.command("EXISTS", mark).equals(":0")); // the mark expired
        proxy.pass();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(list(a).values()).containsExactlyInAnyOrder("v0", "v1"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA.subList(4, onA.size()))
                .as("announced again after the farewells").contains("hello0", "hello1"));
        quiet.put("m", "vm", List.of(new RedisPresence.Notice("t", "marker"))); // after it: nothing more of k0, k1
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onA).contains("marker"));
        assertThat(onA.subList(4, onA.size())).as("once each, then the marker").containsExactlyInAnyOrder("hello0", "hello1", "marker")
                .endsWith("marker");
    }

    @Test
    void settingsOutOfRangeAreRefusedWithTheirName() {
        RedisEventLog log = f.log();
        assertThatIllegalArgumentException().isThrownBy(() -> log.presence(Duration.ofMillis(10), 1)).withMessageContaining("ttl");
        assertThatIllegalArgumentException().isThrownBy(() -> log.presence(Duration.ofSeconds(1), 0)).withMessageContaining("maxLength");
        assertThatIllegalArgumentException().isThrownBy(() -> log.presence(Duration.ofSeconds(1), 1, Duration.ZERO))
                .withMessage("presence kept must be at least 1 ms, was PT0S");
    }
}
