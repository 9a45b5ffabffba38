package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.hub.ClusterDrill.Drained;
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
     * the node out as soon as /readyz says so: not one publish may be refused, up to the process's end,
     * as long as HAProxy took the node out before it ended (README: the node stays unready, accepting,
     * 5 s or its window when shorter). When HAProxy's checks lagged beyond that on a loaded machine (its
     * stats say the node was still in rotation at its exit), a publish refused or cut at the node's end
     * is outside the promise and is printed, not failed ({@link ClusterDrill.Drained}).
     */
    @Test
    void aNodeThatDrainsAndStopsBehindHaproxyRefusesNoPublish() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
                ClusterDrill.Rig rig = new ClusterDrill.Rig(dir, DRAIN, "--redis", redis.uri()).start(2, 1000)) {
            List<HubProcess> nodes = rig.nodes;
            List<Path> logs = new ArrayList<>();
            rig.subscribe(40);
            List<String> refused;
            List<Drained> drains = new ArrayList<>();
            try (Publisher publisher = new Publisher(rig.http, rig.hub(), 50, 5_000)) {
                awaitAnswered(publisher, 25); // publishes flow through HAProxy before the first drain
                for (int round = 0; round < 2; round++) {
                    Path log = nodes.get(0).log();
                    drains.add(rig.drain(0, Duration.ofSeconds(DRAIN_SECONDS)));
                    awaitAnswered(publisher, answered(publisher) + 25); // publishes go on after the node's end
                    rig.restart(0);
                    awaitAnswered(publisher, answered(publisher) + 50); // and after its restart
                    logs.add(log);
                }
                refused = publisher.refused();
                assertThat(publisher.acknowledged()).as("acknowledged").hasSizeGreaterThan(100);
            }
            report(drains, refused);
            assertThat(ClusterDrill.refusedDespiteTheDrain(refused, drains))
                    .as("publishes refused while node 0 drained and stopped, HAProxy having taken it out (drains %s; node 0's logs: %s)",
                            drains, logs.stream().map(HubClusterDrillTest::read).toList()).isEmpty();
        }
    }

    /** Prints each drain's end as HAProxy saw it, and the refusals the drain promise does not cover (if any). */
    private static void report(List<Drained> drains, List<String> refused) {
        for (Drained d : drains) {
            System.out.printf("drill: node %d drained %s..%s; HAProxy's status of it at its exit: %s%s%n", d.node(), d.from(), d.to(),
                    d.status(), d.stillRouted() ? " (still routed: refusals at its end are outside the drain promise)" : "");
        }
        System.out.printf("drill: %d publishes refused, %d despite the drain: %s%n", refused.size(),
                ClusterDrill.refusedDespiteTheDrain(refused, drains).size(), refused);
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** How many publishes were answered (acknowledged or refused). */
    private static int answered(Publisher publisher) {
        return publisher.acknowledged().size() + publisher.refused().size();
    }

    /** Waits (up to 60 s) until {@code n} publishes were answered: the publisher's progress, not a span of time. */
    private static void awaitAnswered(Publisher publisher, int n) {
        await(n + " publishes answered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> answered(publisher) >= n);
    }

    /**
     * Waits (up to 30 s) until every subscriber received a marker: the first publish acknowledged that
     * was sent after node {@code i}'s restart (so after its drain ended). A subscriber that has it has a
     * stream again; the reconnects of that drain are over.
     */
    private static void awaitEverySubscriberBack(Publisher publisher, List<Subscriber> subscribers, int i) {
        long restarted = ClusterDrill.nowMicros();
        String marker = await("a publish acknowledged after node " + i + "'s restart").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(20)).until(() -> publisher.acknowledged().stream()
                        .filter(d -> ClusterDrill.sentMicros(d) > restarted).findFirst().orElse(null), java.util.Objects::nonNull);
        await("every subscriber received " + marker).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> subscribers.stream().allMatch(s -> s.received().contains(marker)));
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
            List<Drained> drains = new ArrayList<>();
            Publisher publisher = new Publisher(rig.http, rig.hub(), 20, 5_000);
            List<String> acknowledged;
            try (publisher) {
                long steady = ClusterDrill.nowMicros();
                awaitAnswered(publisher, 60); // the steady state: 60 publishes answered
                phases.add(new Phase("steady state", steady, ClusterDrill.nowMicros()));
                for (int i = 0; i < 3; i++) {
                    long start = System.nanoTime();
                    long from = ClusterDrill.nowMicros();
                    HubProcess leaving = nodes.get(i);
                    drains.add(rig.drain(i, Duration.ofSeconds(DRAIN_SECONDS)));
                    assertThat(leaving.process().exitValue()).as("node %d's exit status", i).isZero();
                    rig.restart(i);
                    awaitEverySubscriberBack(publisher, subscribers, i); // the reconnects of this drain settled
                    restarts.add(new long[] {start, System.nanoTime()});
                    phases.add(new Phase("restart of node " + i, from, ClusterDrill.nowMicros()));
                }
            }
            acknowledged = publisher.acknowledged();
            assertThat(acknowledged).as("publishes acknowledged during the drill").hasSizeGreaterThan(100);
            // publishes are accepted during a drain and HAProxy takes a draining node out: none refused
            report(drains, publisher.refused());
            assertThat(ClusterDrill.refusedDespiteTheDrain(publisher.refused(), drains))
                    .as("publishes refused during the rolling restart, HAProxy having taken each node out (drains %s)", drains)
                    .isEmpty();
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
