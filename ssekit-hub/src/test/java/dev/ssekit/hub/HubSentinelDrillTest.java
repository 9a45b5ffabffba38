package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.hub.ClusterDrill.Phase;
import dev.ssekit.hub.ClusterDrill.Publisher;
import dev.ssekit.hub.ClusterDrill.Subscriber;
import dev.ssekit.testkit.SentinelCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #26, item 4, the Sentinel half of the drill: three {@code redis-sentinel} processes, one
 * primary and one replica {@code redis-server} ({@link SentinelCluster}: down after 1 s, failover
 * timeout 5 s), three hub processes on {@code --redis redis-sentinel://…/MASTER --redis-replicas 1}
 * behind HAProxy (health checks on {@code /readyz}); 100 {@code ssekit-client} EventSources and a
 * publisher at 20 events/s through HAProxy. The primary gets {@code kill -9} in the middle of the
 * publishing, and is started again once the replica is promoted (it rejoins as a replica, so that
 * {@code WAIT 1} can be met again). Every acknowledged publish reaches every subscriber exactly once
 * and in order; every refused publish was answered 5xx (within the publisher's 10 s timeout: no
 * hang, no missing answer); the nodes follow the promoted primary on their own (publishes are
 * acknowledged again). Prints the p99 delivery latency of the failover against steady state.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubSentinelDrillTest {

    private static final int SUBSCRIBERS = 100;

    @TempDir
    Path dir;

    @Test
    void killingTheRedisPrimaryLosesNoAcknowledgedPublishAndRefusesTheRestWith5xx() throws Exception {
        Path redisDir = Files.createDirectories(dir.resolve("redis"));
        try (SentinelCluster redis = SentinelCluster.start(redisDir);
                ClusterDrill.Rig rig = new ClusterDrill.Rig(dir, Map.of("SSEKIT_DRAIN", "2"), "--redis", redis.uri(),
                        "--redis-replicas", "1").start(3, 1000)) {
            List<Subscriber> subscribers = rig.subscribers;
            rig.subscribe(SUBSCRIBERS);
            List<Phase> phases = new ArrayList<>();
            Publisher publisher = new Publisher(rig.http, rig.hub(), 20, 5_000);
            long killed;
            try (publisher) {
                long steady = ClusterDrill.nowMicros();
                // each publish waits for the replica's fsync too: on a loaded machine a few per second
                await("20 publishes acknowledged before the kill").atMost(Duration.ofSeconds(30))
                        .until(() -> publisher.acknowledged().size() >= 20);
                killed = ClusterDrill.nowMicros();
                phases.add(new Phase("steady state", steady, killed));
                redis.killPrimary(); // kill -9, mid-publishing
                redis.awaitPromotion();
                redis.restartPrimary(redisDir); // rejoins as the promoted one's replica: WAIT 1 can be met again
                await("publishes acknowledged again after the failover").atMost(Duration.ofSeconds(45))
                        .pollInterval(Duration.ofMillis(100)).until(() -> publisher.acknowledged().stream()
                                .anyMatch(d -> ClusterDrill.sentMicros(d) > killed));
                long back = ClusterDrill.nowMicros();
                // the phase after the failover: 20 publishes acknowledged after it (not a span of time)
                await("20 publishes acknowledged after the failover").atMost(Duration.ofSeconds(45))
                        .pollInterval(Duration.ofMillis(100)).until(() -> publisher.acknowledged().stream()
                                .filter(d -> ClusterDrill.sentMicros(d) > back).count() >= 20);
                phases.add(new Phase("failover", killed, back));
                phases.add(new Phase("after the failover", back, ClusterDrill.nowMicros()));
            }
            List<String> acknowledged = publisher.acknowledged();
            List<String> refused = publisher.refused();
            System.out.printf("sentinel drill: %d publishes sent, %d acknowledged (%d after the kill), %d refused: %s%n",
                    publisher.sent(), acknowledged.size(), acknowledged.stream().filter(d -> ClusterDrill.sentMicros(d) > killed)
                            .count(), refused.size(), refused.stream().map(r -> r.substring(0, r.indexOf(' '))).toList());
            assertThat(refused).as("every refused publish was answered 5xx (-1: no answer within 10 s)")
                    .allMatch(r -> r.startsWith("5"));
            ClusterDrill.assertEveryAcknowledgedEventOnceInOrder(subscribers, acknowledged, Duration.ofSeconds(30));
            System.out.print(ClusterDrill.latencyReport(subscribers, acknowledged, phases));
        }
    }
}
