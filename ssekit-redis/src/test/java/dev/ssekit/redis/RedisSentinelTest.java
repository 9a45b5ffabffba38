package dev.ssekit.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.SseMessage;
import dev.ssekit.testkit.SentinelCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #26, item 3: a node on {@code redis-sentinel://…/MASTER_NAME} follows the promoted replica
 * after {@code kill -9} of the primary, and with {@code replicas(1)} an append is acknowledged only
 * once {@code WAIT 1} confirms a replica holds it: every acknowledged append survives the failover,
 * and one no replica confirms fails instead of being acknowledged. Real redis-server and
 * redis-sentinel processes.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisSentinelTest {

    @TempDir
    Path dir;

    @Test
    void theLettuceAndTheSlashFormsNameTheMaster() {
        assertThat(RedisEventLog.sentinelForm("redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster"))
                .isEqualTo("redis-sentinel://127.0.0.1:26379,127.0.0.1:26380#mymaster");
        assertThat(RedisEventLog.sentinelForm("redis-sentinel://h:1/mymaster?timeout=5s"))
                .isEqualTo("redis-sentinel://h:1?timeout=5s#mymaster");
        assertThat(RedisEventLog.sentinelForm("redis-sentinel://h:1/0#mymaster")).isEqualTo("redis-sentinel://h:1/0#mymaster");
        assertThat(RedisEventLog.sentinelForm("redis://h:1/3")).isEqualTo("redis://h:1/3");
        assertThatThrownBy(() -> RedisEventLog.builder("redis://h:1").replicas(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replicas must be at least 0: -1");
    }

    /** Appends until {@code wanted} are acknowledged or the deadline passes; returns the failures' messages. */
    private static List<String> appendUntil(RedisEventLog log, String prefix, int wanted, List<String> acknowledged, long deadline)
            throws InterruptedException {
        List<String> failures = new ArrayList<>();
        for (int i = 0, acks = 0; acks < wanted && System.nanoTime() < deadline; i++) {
            try {
                acknowledged.add(log.append(SseMessage.of(prefix + i), Set.of("t"), false, prefix + i).toCompletableFuture()
                        .get(10, TimeUnit.SECONDS).id());
                acks++;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                failures.add(String.valueOf(e.getCause())); // not acknowledged
                Thread.sleep(100);
            }
            Thread.sleep(20);
        }
        return failures;
    }

    @Test
    void everyAcknowledgedAppendSurvivesKillingThePrimaryAndNodesFollowThePromotedOne() throws Exception {
        try (SentinelCluster redis = SentinelCluster.start(dir);
                RedisEventLog waiting = RedisEventLog.builder(redis.uri()).replicas(1).timeout(Duration.ofSeconds(2)).build();
                RedisEventLog plain = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(2)).build()) {
            List<String> followed = new CopyOnWriteArrayList<>();
            waiting.follow(e -> followed.add(e.id()));
            List<String> acknowledged = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            assertThat(appendUntil(waiting, "before-", 10, acknowledged, deadline)).isEmpty();
            redis.killPrimary(); // mid-publishing
            List<String> during = appendUntil(waiting, "no-replica-", 1, new ArrayList<>(), System.nanoTime()
                    + TimeUnit.SECONDS.toNanos(1));
            assertThat(during).as("appends right after the kill are refused").isNotEmpty();
            // replicas(0): acknowledged by the promoted primary as soon as the node follows it
            List<String> failed = appendUntil(plain, "promoted-", 5, acknowledged, deadline);
            assertThat(acknowledged).as("appends acknowledged after the failover; refused meanwhile: %s", failed)
                    .hasSize(15);
            redis.awaitPromotion();
            // with one replica gone, WAIT 1 confirms nothing until the old primary is back as a replica
            redis.restartPrimary(dir);
            List<String> refused = appendUntil(waiting, "rejoined-", 5, acknowledged, deadline);
            assertThat(acknowledged).as("WAIT 1 acknowledged again once the old primary replicates; refused meanwhile: %d",
                    refused.size()).hasSize(20);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(followed).containsAll(acknowledged));
        }
    }

    @Test
    void anAppendNoReplicaConfirmsIsNotAcknowledged() throws Exception {
        try (SentinelCluster redis = SentinelCluster.start(dir);
                RedisEventLog waiting = RedisEventLog.builder(redis.uri()).replicas(1).timeout(Duration.ofSeconds(1)).build()) {
            assertThat(waiting.append(SseMessage.of("with the replica"), Set.of("t"), false, "a").toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).id()).isNotEmpty();
            redis.killReplica();
            assertThatThrownBy(() -> waiting.append(SseMessage.of("without"), Set.of("t"), false, "b").toCompletableFuture()
                    .get(10, TimeUnit.SECONDS))
                    .as("an append no replica confirms").hasCauseInstanceOf(RedisEventLog.NotReplicatedException.class)
                    .hasMessageContaining("confirmed by 0 of 1 replicas");
            try (RedisEventLog primaryOnly = RedisEventLog.builder(redis.uri()).build()) {
                assertThat(primaryOnly.append(SseMessage.of("replicas 0"), Set.of("t"), false, "c").toCompletableFuture()
                        .get(10, TimeUnit.SECONDS).id()).as("without replicas(1): acknowledged by the primary alone").isNotEmpty();
            }
        }
    }
}
