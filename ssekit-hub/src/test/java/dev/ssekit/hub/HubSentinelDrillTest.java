package dev.ssekit.hub;

import static dev.ssekit.hub.ClusterDrill.freePort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.hub.ClusterDrill.Phase;
import dev.ssekit.hub.ClusterDrill.Publisher;
import dev.ssekit.hub.ClusterDrill.Subscriber;
import dev.ssekit.testkit.SentinelCluster;
import java.net.URI;
import java.net.http.HttpClient;
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
        List<HubProcess> nodes = new ArrayList<>();
        List<Subscriber> subscribers = new ArrayList<>();
        Process haproxy = null;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        Path redisDir = Files.createDirectories(dir.resolve("redis"));
        try (SentinelCluster redis = SentinelCluster.start(redisDir)) {
            List<Integer> ports = List.of(freePort(), freePort(), freePort());
            for (int i = 0; i < ports.size(); i++) {
                nodes.add(ClusterDrill.node(dir, i, ports.get(i), Map.of("SSEKIT_DRAIN", "2"), "--redis", redis.uri(),
                        "--redis-replicas", "1"));
            }
            int front = freePort();
            haproxy = ClusterDrill.haproxy(dir, front, ports, 1000);
            URI hub = URI.create("http://127.0.0.1:" + front + HubHandler.PATH);
            for (int i = 0; i < SUBSCRIBERS; i++) {
                subscribers.add(Subscriber.start(http, hub));
            }
            await("every subscriber connected").atMost(Duration.ofSeconds(30))
                    .until(() -> subscribers.stream().allMatch(s -> !s.opens().isEmpty()));
            List<Phase> phases = new ArrayList<>();
            Publisher publisher = new Publisher(http, hub, 20, 5_000);
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
                Thread.sleep(3000);
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
        } finally {
            subscribers.forEach(s -> s.source().close());
            http.shutdownNow();
            nodes.forEach(n -> n.process().destroy()); // their drains at once
            nodes.forEach(HubProcess::close);
            ClusterDrill.kill(haproxy);
        }
    }
}
