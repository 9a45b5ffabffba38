package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.SubscriptionEventsHubTest.HUB;
import static dev.ssekit.hub.SubscriptionEventsHubTest.ISSUER;
import static dev.ssekit.hub.SubscriptionEventsHubTest.detail;
import static dev.ssekit.hub.SubscriptionEventsHubTest.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.redis.RedisEventLog;
import dev.ssekit.testkit.RedisServer;
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
import java.util.Optional;
import java.util.Set;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Adversarial review 3 (rev2): the subscriptions API of a cluster node, where its listing is read. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubClusterReview3Test {

    @TempDir
    Path dir;

    private RedisServer redis;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
    }

    @AfterEach
    void stop() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // the next ones still close
            }
        }
        http.close();
        redis.close();
    }

    private MercureHub node() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        RedisEventLog log = RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(2)).build();
        closeables.add(log);
        Broadcaster b = Broadcaster.builder().log(log).build();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 100,
                1000, true, false, "", Duration.ofSeconds(10), Optional.empty()).withProtocol(HubConfig.Protocol.modern(ISSUER, key, key,
                        HUB)), ConnectionLifetime.Settings.NONE, b, Scheduler.system(), Clock.systemUTC(), MercureHub.PRESENCE_TTL);
        closeables.add(hub);
        return hub;
    }

    private static String threadName(long id) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.threadId() == id).map(Thread::getName).findFirst()
                .orElse("(ended thread " + id + ")");
    }

    // Defect R3-6: the API's listing is parsed (every node's entries: JSON.std.mapFrom, Subscriptions.java:656) and
    // its body serialized (MercureProtocol.java:826-842) inside thenApply on the stage of RedisPresence.list()'s
    // async EVAL (RedisPresence.java:814-826, Subscriptions.java:637): on the Lettuce I/O event loop that completes
    // it, which also carries the node's presence writes and its event log's commands. An entry the parser rejects
    // is logged from the thread doing the parsing: the test reads that thread's name.
    @Test
    void theClusterListingIsNotParsedOnALettuceIoThread() throws Exception {
        MercureHub a = node();
        // another live node's entry that does not parse (any entry would be parsed on the same thread)
        assertThat(redis.command("ZADD", "{ssekit}:presence:nodes", "99999999999999", "review3")).isEqualTo(":1");
        assertThat(redis.command("HSET", "{ssekit}:presence:node:review3", "x", "not json")).isEqualTo(":1");
        String token = token("[" + detail("subscribe", Subscriptions.PATH, "exact", null) + "]");
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.address().getPort()
                    + Subscriptions.PATH)).timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("the API: %s", r.body()).isEqualTo(200);
            LogRecord parsed = await().atMost(Duration.ofSeconds(5)).until(() -> logs.records().stream()
                    .filter(l -> String.valueOf(l.getMessage()).contains("not readable")).findFirst().orElse(null), l -> l != null);
            String thread = threadName(parsed.getLongThreadID());
            // neither Lettuce's I/O loop ("lettuce-epollEventLoop-…") nor one of the hub's Netty event loops
            assertThat(thread).as("the thread that parsed the cluster's listing").doesNotStartWith("lettuce-")
                    .doesNotContainIgnoringCase("eventloop");
        }
    }
}
