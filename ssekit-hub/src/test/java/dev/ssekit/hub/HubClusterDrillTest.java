package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RedisServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #26, item 4, the drill: HAProxy (health checks on {@code /readyz}) in front of three hub
 * processes on one redis-server; 200 {@code ssekit-client} EventSources through HAProxy, a publisher
 * at 20 events/s through HAProxy; each node in turn gets SIGTERM (a 2 s drain) and is started again.
 * Every subscriber receives every acknowledged event exactly once and in order, and the reconnects
 * a drain causes stay within what its window allows.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubClusterDrillTest {

    private static final String KEY = "a-fixed-development-key-of-at-least-32-bytes";
    private static final int SUBSCRIBERS = 200;
    private static final int DRAIN_SECONDS = 2;

    @TempDir
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private HubProcess node(int i, int port, String redis) throws Exception {
        return HubProcess.start(Files.createDirectories(dir.resolve("node" + i)), KEY, Map.of("SSEKIT_DRAIN",
                Integer.toString(DRAIN_SECONDS)), "--listen", "127.0.0.1:" + port, "--redis", redis);
    }

    /** HAProxy in the foreground, checking each node's /readyz every 100 ms, down after one failure. */
    private Process haproxy(int port, List<Integer> nodes) throws Exception {
        StringBuilder cfg = new StringBuilder("""
                global
                  maxconn 4000
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 60s
                  timeout server 60s
                  retries 3
                  option redispatch
                frontend drill
                  bind 127.0.0.1:%d
                  default_backend hubs
                backend hubs
                  balance roundrobin
                  option httpchk GET /readyz
                  http-check expect status 200
                  default-server inter 100ms fastinter 100ms downinter 100ms rise 1 fall 1
                """.formatted(port));
        for (int i = 0; i < nodes.size(); i++) {
            cfg.append("  server n").append(i).append(" 127.0.0.1:").append(nodes.get(i)).append(" check\n");
        }
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg.toString(), UTF_8);
        Process p = new ProcessBuilder("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        await("HAProxy listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
                return true;
            } catch (java.io.IOException notYet) {
                return !p.isAlive();
            }
        });
        assertThat(p.isAlive()).as("haproxy running; its output: %s", Files.readString(dir.resolve("haproxy.log"))).isTrue();
        return p;
    }

    /** One subscriber's record: the data of its events in order, and when each of its streams opened. */
    private record Subscriber(EventSource source, List<String> received, ConcurrentLinkedQueue<Long> opens) {
    }

    @Test
    void aRollingRestartBehindHaproxyLosesNothingAndPacesReconnects() throws Exception {
        List<HubProcess> nodes = new ArrayList<>();
        List<Subscriber> subscribers = new ArrayList<>();
        Process haproxy = null;
        // closed after the event sources, in finally: HttpClient.close() waits for every stream to end
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            List<Integer> ports = List.of(freePort(), freePort(), freePort());
            for (int i = 0; i < 3; i++) {
                nodes.add(node(i, ports.get(i), redis.uri()));
            }
            int front = freePort();
            haproxy = haproxy(front, ports);
            URI hub = URI.create("http://127.0.0.1:" + front + HubHandler.PATH);
            for (int i = 0; i < SUBSCRIBERS; i++) {
                List<String> got = new CopyOnWriteArrayList<>();
                ConcurrentLinkedQueue<Long> opens = new ConcurrentLinkedQueue<>();
                EventSource source = EventSource.builder(URI.create(hub + "?topic=drill")).httpClient(http).build();
                subscribers.add(new Subscriber(source, got, opens));
                source.start(new EventSourceListener() {
                    @Override
                    public void onOpen(HttpResponse.ResponseInfo response) {
                        opens.add(System.nanoTime());
                    }

                    @Override
                    public void onEvent(SseEvent event) {
                        if (event.type().equals("message")) {
                            got.add(event.data());
                        }
                    }

                    @Override
                    public void onClosed(Optional<StreamException> failure) {
                    }
                });
            }
            await("every subscriber connected").atMost(Duration.ofSeconds(30))
                    .until(() -> subscribers.stream().allMatch(s -> !s.opens().isEmpty()));
            String token = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", KEY.getBytes(UTF_8));
            List<String> acknowledged = new CopyOnWriteArrayList<>();
            List<Integer> refused = new CopyOnWriteArrayList<>();
            AtomicBoolean publishing = new AtomicBoolean(true);
            AtomicInteger sent = new AtomicInteger();
            Thread publisher = Thread.ofPlatform().name("drill-publisher").start(() -> {
                while (publishing.get() && sent.get() < 5_000) {
                    String data = "e" + sent.getAndIncrement();
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(hub).timeout(Duration.ofSeconds(10))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString("topic=drill&data=" + data)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            acknowledged.add(data);
                        } else {
                            refused.add(r.statusCode());
                        }
                        Thread.sleep(50); // 20 events/s
                    } catch (java.io.IOException e) {
                        refused.add(-1); // no answer at all
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            List<long[]> phases = new ArrayList<>(); // [start, end] of each node's restart
            Thread.sleep(1000);
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                HubProcess leaving = nodes.get(i);
                leaving.process().destroy(); // SIGTERM: the drain
                assertThat(leaving.process().waitFor(DRAIN_SECONDS + 15, TimeUnit.SECONDS)).as("node %d exits after its drain", i)
                        .isTrue();
                assertThat(leaving.process().exitValue()).as("node %d's exit status", i).isZero();
                nodes.set(i, node(i, ports.get(i), redis.uri()));
                int port = ports.get(i);
                await("node " + i + " ready again").atMost(Duration.ofSeconds(20)).until(() -> http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
                Thread.sleep(2 * DRAIN_SECONDS * 1000L); // the reconnects of this drain settle
                phases.add(new long[] {start, System.nanoTime()});
            }
            publishing.set(false);
            publisher.join(Duration.ofSeconds(15));
            assertThat(acknowledged).as("publishes acknowledged during the drill (refused: %s)", refused).hasSizeGreaterThan(100);
            // a refused publish (a POST in flight when a node's process ended) was answered 5xx or not at all
            assertThat(refused).as("refusals").allMatch(status -> status == -1 || status >= 500);
            for (int s = 0; s < subscribers.size(); s++) {
                List<String> got = subscribers.get(s).received();
                await("subscriber " + s + " has every acknowledged event").atMost(Duration.ofSeconds(30))
                        .until(() -> got.containsAll(acknowledged));
                assertThat(new HashSet<>(got)).as("subscriber %d: no event twice", s).hasSameSizeAs(got);
                assertThat(got.stream().filter(Set.copyOf(acknowledged)::contains).toList())
                        .as("subscriber %d: every acknowledged event, in order", s).isEqualTo(acknowledged);
            }
            // the reconnects of each drain: m streams closed at window * i / m, each reconnecting after its retry hint
            // (uniform in [0, window]) plus the client's jitter: about m / window per second. Bound: m / window per
            // second plus three standard deviations of a Poisson count and one, in any whole second of the phase.
            for (int p = 0; p < phases.size(); p++) {
                long from = phases.get(p)[0];
                long to = phases.get(p)[1];
                List<Long> reconnects = subscribers.stream().flatMap(s -> s.opens().stream().skip(1))
                        .filter(t -> t >= from && t < to).sorted().toList();
                int m = reconnects.size();
                double rate = (double) m / DRAIN_SECONDS;
                long bound = (long) Math.ceil(rate + 3 * Math.sqrt(rate) + 1);
                int peak = 0;
                for (int a = 0, b = 0; a < reconnects.size(); a++) {
                    while (b < reconnects.size() && reconnects.get(b) < reconnects.get(a) + 1_000_000_000L) {
                        b++;
                    }
                    peak = Math.max(peak, b - a);
                }
                System.out.printf("drill: node %d restarted: %d reconnects, peak %d in one second, bound %d; %d publishes"
                        + " acknowledged, refused %s%n", p, m, peak, bound, acknowledged.size(), refused);
                assertThat(m).as("node %d's drain moved its subscribers", p).isGreaterThan(0);
                assertThat((long) peak).as("node %d: peak reconnects in one second, of %d (bound %d)", p, m, bound)
                        .isLessThanOrEqualTo(bound);
            }
        } finally {
            subscribers.forEach(s -> s.source().close());
            http.shutdownNow();
            nodes.forEach(HubProcess::close);
            if (haproxy != null) {
                haproxy.destroyForcibly();
                haproxy.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
