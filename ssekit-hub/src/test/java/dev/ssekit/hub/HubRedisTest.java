package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.redis.RedisEventLog;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hub nodes sharing one real redis-server: in-process nodes (each a {@link MercureHub} on its own
 * port) and, for {@code kill -9}, a node in a process of its own. Everything over real HTTP.
 */
@Timeout(120)
class HubRedisTest {

    static final String PUBLISHER = "{\"mercure\":{\"publish\":[\"*\"]}}";

    @TempDir
    Path dir;

    private RedisServer redis;
    private HttpClient http;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        http.close();
        redis.close();
    }

    private MercureHub node() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        RedisEventLog log = RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)).build();
        Broadcaster b = Broadcaster.builder().log(log).build();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                64 * 1024, 100, 1000, false, false, "", Duration.ofSeconds(10), java.util.Optional.empty())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token"))), b, Scheduler.system(), Clock.systemUTC());
        closeables.add(hub);
        return hub;
    }

    private HttpResponse<String> publish(InetSocketAddress node, String data) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.getPort() + HubHandler.PATH))
                .header("Authorization", "Bearer " + token(PUBLISHER))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=orders&data=" + data)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String published(InetSocketAddress node, String data) throws Exception {
        HttpResponse<String> r = publish(node, data);
        assertThat(r.statusCode()).as("publish %s: %s", data, r.body()).isEqualTo(200);
        return r.body();
    }

    private RawHttp subscribe(InetSocketAddress node, String... headers) throws Exception {
        RawHttp c = RawHttp.get(node, HubHandler.PATH + "?topic=orders", "HTTP/1.1", headers);
        closeables.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    @Test
    void subscribersOnNodeAReceiveInOrderWhatIsPublishedOnNodeC() throws Exception {
        MercureHub a = node();
        MercureHub b = node();
        MercureHub c = node();
        RawHttp onA = subscribe(a.address());
        RawHttp onB = subscribe(b.address());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ids.add(published(c.address(), "order+" + i));
        }
        assertThat(onA.events(50)).extracting(SseEvent::id).isEqualTo(ids);
        List<SseEvent> gotB = onB.events(50);
        assertThat(gotB).extracting(SseEvent::id).isEqualTo(ids);
        assertThat(gotB.get(49).data()).isEqualTo("order 49");
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.address().getPort() + "/metrics"))
                .header("Authorization", "Bearer metrics-token").build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("ssekit_redis_connected 1\n").contains("ssekit_redis_applied_sequence 50\n")
                .contains("ssekit_redis_gaps_total 0\n");
    }

    @Test
    void aClientMovingFromAToBWithItsLastEventIdGetsExactlyWhatItMissed() throws Exception {
        MercureHub a = node();
        MercureHub b = node();
        RawHttp onA = subscribe(a.address());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(published(a.address(), "e" + i));
        }
        String last = onA.events(5).getLast().id();
        onA.close();
        for (int i = 5; i < 10; i++) {
            ids.add(published(a.address(), "e" + i));
        }
        // straight to B, no waiting: B holds the request until it has caught up with Redis
        RawHttp onB = subscribe(b.address(), "Last-Event-ID: " + last);
        assertThat(onB.headers).containsEntry("last-event-id", last);
        assertThat(onB.events(5)).extracting(SseEvent::id).isEqualTo(ids.subList(5, 10));
    }

    @Test
    void redisRestartedMidStreamNoAcknowledgedUpdateIsLost() throws Exception {
        MercureHub a = node();
        MercureHub c = node();
        RawHttp onA = subscribe(a.address());
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            acknowledged.add(published(c.address(), "before+" + i));
        }
        redis.kill();
        HttpResponse<String> refused = publish(c.address(), "while+down");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("retry-after")).contains("5");
        redis.restart();
        await("ten publishes acknowledged after the restart").atMost(java.time.Duration.ofSeconds(30))
                .pollInSameThread().pollInterval(java.time.Duration.ofMillis(50)).until(() -> {
                    while (acknowledged.size() < 20) {
                        HttpResponse<String> r = publish(c.address(), "after+" + (acknowledged.size() - 10));
                        if (r.statusCode() != 200) {
                            assertThat(r.statusCode()).as("refused while reconnecting").isEqualTo(503);
                            return false;
                        }
                        acknowledged.add(r.body());
                    }
                    return true;
                });
        // the subscriber stayed connected to node A throughout and misses nothing acknowledged
        assertThat(onA.events(20)).extracting(SseEvent::id).isEqualTo(acknowledged);
    }

    @Test
    void aNodeKilledWithKill9ItsClientsResumeOnAnotherNode() throws Exception {
        HubProcess a = HubProcess.start(dir.resolve("a"), new String(KEY, UTF_8), "--redis", redis.uri());
        closeables.add(() -> a.process().destroyForcibly());
        InetSocketAddress addressA = a.address();
        MercureHub b = node();
        RawHttp onA = subscribe(addressA);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(published(b.address(), "e" + i));
        }
        String last = onA.events(3).getLast().id();
        a.process().destroyForcibly(); // kill -9
        assertThat(a.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 6; i < 9; i++) {
            ids.add(published(b.address(), "e" + i));
        }
        RawHttp onB = subscribe(b.address(), "Last-Event-ID: " + last);
        assertThat(onB.events(6)).extracting(SseEvent::id).isEqualTo(ids.subList(3, 9));
    }
}
