package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.hub.ClusterDrill.Phase;
import dev.ssekit.hub.ClusterDrill.Publisher;
import dev.ssekit.hub.ClusterDrill.Subscriber;
import dev.ssekit.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #26, item 4, the drill: HAProxy (health checks on {@code /readyz}) in front of three hub
 * processes on one redis-server; 200 {@code ssekit-client} EventSources through HAProxy, a publisher
 * at 20 events/s through HAProxy; each node in turn gets SIGTERM (a 2 s drain) and is started again.
 * Every subscriber receives every acknowledged event exactly once and in order, no publish is
 * refused, and the reconnects a drain causes stay within what its window allows. Prints the p99
 * delivery latency during each restart against steady state.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubClusterDrillTest {

    private static final int SUBSCRIBERS = 200;
    private static final int DRAIN_SECONDS = 2;
    private static final Map<String, String> DRAIN = Map.of("SSEKIT_DRAIN", Integer.toString(DRAIN_SECONDS));

    @TempDir
    Path dir;

    /**
     * The end of a drain behind HAProxy: two nodes, subscribers on both, publishes at 50/s through
     * HAProxy while node 0 drains and stops. Publishes are accepted during a drain, and HAProxy takes
     * the node out as soon as /readyz says so: not one publish may be refused, up to the process's end.
     */
    @Test
    void aNodeThatDrainsAndStopsBehindHaproxyRefusesNoPublish() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
                ClusterDrill.Rig rig = new ClusterDrill.Rig(dir, DRAIN, "--redis", redis.uri()).start(2, 1000)) {
            List<HubProcess> nodes = rig.nodes;
            rig.subscribe(40);
            List<String> refused;
            try (Publisher publisher = new Publisher(rig.http, rig.hub(), 50, 5_000)) {
                Thread.sleep(500);
                for (int round = 0; round < 2; round++) {
                    HubProcess leaving = nodes.get(0);
                    leaving.process().destroy(); // SIGTERM: the drain
                    assertThat(leaving.process().waitFor(DRAIN_SECONDS + 15, TimeUnit.SECONDS)).as("node 0 exits").isTrue();
                    Thread.sleep(500); // publishes go on after the node's end
                    rig.restart(0);
                    Thread.sleep(1000);
                }
                refused = publisher.refused();
                assertThat(publisher.acknowledged()).as("acknowledged").hasSizeGreaterThan(100);
            }
            assertThat(refused).as("publishes refused while node 0 drained and stopped (node 0's log: %s)",
                    Files.readString(nodes.get(0).log())).isEmpty();
        }
    }

    @Test
    void aRollingRestartBehindHaproxyLosesNothingAndPacesReconnects() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
                ClusterDrill.Rig rig = new ClusterDrill.Rig(dir, DRAIN, "--redis", redis.uri()).start(3, 4000)) {
            List<HubProcess> nodes = rig.nodes;
            List<Subscriber> subscribers = rig.subscribers;
            rig.subscribe(SUBSCRIBERS);
            List<long[]> restarts = new ArrayList<>(); // [start, end] nanoTime of each node's restart
            List<Phase> phases = new ArrayList<>();
            Publisher publisher = new Publisher(rig.http, rig.hub(), 20, 5_000);
            List<String> acknowledged;
            try (publisher) {
                long steady = ClusterDrill.nowMicros();
                Thread.sleep(3000);
                phases.add(new Phase("steady state", steady, ClusterDrill.nowMicros()));
                for (int i = 0; i < 3; i++) {
                    long start = System.nanoTime();
                    long from = ClusterDrill.nowMicros();
                    HubProcess leaving = nodes.get(i);
                    leaving.process().destroy(); // SIGTERM: the drain
                    assertThat(leaving.process().waitFor(DRAIN_SECONDS + 15, TimeUnit.SECONDS)).as("node %d exits after its drain", i)
                            .isTrue();
                    assertThat(leaving.process().exitValue()).as("node %d's exit status", i).isZero();
                    rig.restart(i);
                    Thread.sleep(2 * DRAIN_SECONDS * 1000L); // the reconnects of this drain settle
                    restarts.add(new long[] {start, System.nanoTime()});
                    phases.add(new Phase("restart of node " + i, from, ClusterDrill.nowMicros()));
                }
            }
            acknowledged = publisher.acknowledged();
            assertThat(acknowledged).as("publishes acknowledged during the drill").hasSizeGreaterThan(100);
            // publishes are accepted during a drain and HAProxy takes a draining node out: none refused
            assertThat(publisher.refused()).as("publishes refused during the rolling restart").isEmpty();
            ClusterDrill.assertEveryAcknowledgedEventOnceInOrder(subscribers, acknowledged, Duration.ofSeconds(30));
            System.out.print(ClusterDrill.latencyReport(subscribers, acknowledged, phases));
            // the reconnects of each drain: m streams closed at window * i / m, each reconnecting after its retry hint
            // (uniform in [0, window]) plus the client's jitter: about m / window per second. Bound: m / window per
            // second plus three standard deviations of a Poisson count and one, in any whole second of the phase.
            for (int p = 0; p < restarts.size(); p++) {
                long from = restarts.get(p)[0];
                long to = restarts.get(p)[1];
                List<Long> reconnects = subscribers.stream().flatMap(s -> s.reconnects().stream())
                        .filter(t -> t >= from && t < to).toList();
                int m = reconnects.size();
                double rate = (double) m / DRAIN_SECONDS;
                long bound = (long) Math.ceil(rate + 3 * Math.sqrt(rate) + 1);
                int peak = ClusterDrill.peakPerSecond(reconnects);
                System.out.printf("drill: node %d restarted: %d reconnects, peak %d in one second, bound %d; %d publishes"
                        + " acknowledged, %d refused%n", p, m, peak, bound, acknowledged.size(), publisher.refused().size());
                assertThat(m).as("node %d's drain moved its subscribers", p).isGreaterThan(0);
                assertThat((long) peak).as("node %d: peak reconnects in one second, of %d (bound %d)", p, m, bound)
                        .isLessThanOrEqualTo(bound);
            }
        }
    }
}
