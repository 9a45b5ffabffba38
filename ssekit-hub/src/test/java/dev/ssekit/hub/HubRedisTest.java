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
        return node(RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)));
    }

    private MercureHub node(RedisEventLog.Builder builder) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        RedisEventLog log = builder.build();
        closeables.add(log);
        Broadcaster b = Broadcaster.builder().log(log).build();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                64 * 1024, 100, 1000, false, false, "", Duration.ofSeconds(10), java.util.Optional.empty())
                .withLimits(HubConfig.Limits.DEFAULT.withMetrics(java.util.Optional.empty(), java.util.Optional.of("metrics-token"))), b, Scheduler.system(), Clock.systemUTC());
        closeables.add(hub);
        return hub;
    }

    private HttpResponse<String> publish(InetSocketAddress node, String data) throws Exception {
        return post(node, "topic=orders&data=" + data);
    }

    private HttpResponse<String> post(InetSocketAddress node, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.getPort() + HubHandler.PATH))
                .header("Authorization", "Bearer " + token(PUBLISHER))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a signal (STOP, CONT) to a process. */
    private static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %s", signal, pid).isZero();
    }

    /** The pid of the test's redis-server (a child of this JVM, listening on its port). */
    private long redisPid() {
        return ProcessHandle.current().children()
                .filter(p -> {
                    try { // redis-server shows its address in its command line: "redis-server 127.0.0.1:PORT"
                        return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).contains(":" + redis.port());
                    } catch (IOException gone) {
                        return false;
                    }
                })
                .findFirst().orElseThrow().pid();
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

    /**
     * Issue #29: Redis stalls after the append was sent (here: {@code kill -STOP} of redis-server),
     * so the node cannot tell whether the update was stored. The publisher is told so (504, with
     * the id to retry with), not "not stored" (503), and a retry with that id after Redis is back
     * is answered with the first outcome: one event, delivered once.
     */
    @Test
    void aPublishWhoseOutcomeIsUnknownIsRetriedSafelyWithTheSameId() throws Exception {
        MercureHub a = node(RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1)));
        RawHttp onA = subscribe(a.address());
        long pid = redisPid();
        closeables.add(() -> signal(pid, "CONT"));
        // with the publisher's id
        signal(pid, "STOP");
        HttpResponse<String> unknown = post(a.address(), "topic=orders&data=first&id=order-1");
        signal(pid, "CONT");
        assertThat(unknown.statusCode()).as("outcome unknown: %s", unknown.body()).isEqualTo(504);
        assertThat(unknown.body()).contains("retry with id=order-1");
        assertThat(unknown.headers().firstValue("retry-after")).isPresent();
        HttpResponse<String> retried = post(a.address(), "topic=orders&data=first&id=order-1");
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo("order-1");
        // without one: the hub names the id to retry with, and the retry gets the first event's id
        signal(pid, "STOP");
        HttpResponse<String> unknown2 = post(a.address(), "topic=orders&data=second");
        signal(pid, "CONT");
        assertThat(unknown2.statusCode()).as("outcome unknown: %s", unknown2.body()).isEqualTo(504);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("retry with id=(urn:uuid:[0-9a-f-]+) ").matcher(unknown2.body());
        assertThat(m.find()).as(unknown2.body()).isTrue();
        HttpResponse<String> retried2 = post(a.address(), "topic=orders&data=second&id=" + m.group(1));
        assertThat(retried2.statusCode()).isEqualTo(200);
        String last = published(a.address(), "third");
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once each").isEqualTo(":3");
        List<SseEvent> got = onA.events(3);
        assertThat(got).extracting(SseEvent::data).containsExactly("first", "second", "third");
        assertThat(got).extracting(SseEvent::id).containsExactly("order-1", retried2.body(), last);
    }

    /**
     * Issue #29 review: an id reused within the TTL for another update is not a retry. The hub
     * answers 409 naming the id, stores nothing and delivers nothing; an identical retry still
     * gets 200 with the first event's id.
     */
    @Test
    void anIdReusedForAnotherUpdateIsAConflict() throws Exception {
        MercureHub a = node();
        RawHttp onA = subscribe(a.address());
        HttpResponse<String> first = post(a.address(), "topic=orders&data=first&id=order-9");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        for (String other : List.of("topic=orders&data=second&id=order-9", "topic=other&data=first&id=order-9",
                "topic=orders&data=first&id=order-9&private=on", "topic=orders&data=first&id=order-9&type=x")) {
            HttpResponse<String> conflict = post(a.address(), other);
            assertThat(conflict.statusCode()).as("%s: %s", other, conflict.body()).isEqualTo(409);
            assertThat(conflict.body()).contains("id=order-9");
        }
        HttpResponse<String> same = post(a.address(), "topic=orders&data=first&id=order-9");
        assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
        assertThat(same.body()).isEqualTo("order-9");
        String last = published(a.address(), "third");
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once").isEqualTo(":2");
        List<SseEvent> got = onA.events(2);
        assertThat(got).extracting(SseEvent::data).containsExactly("first", "third");
        assertThat(got).extracting(SseEvent::id).containsExactly("order-9", last);
    }

    /** A Mercure 1.0 node (no compatibility mode) on the test's redis-server. */
    private MercureHub modernNode(RedisEventLog.Builder builder) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        RedisEventLog log = builder.build();
        closeables.add(log);
        Broadcaster b = Broadcaster.builder().log(log).build();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                64 * 1024, 100, 1000, false, false, "", Duration.ofSeconds(10), java.util.Optional.empty())
                .withProtocol(HubConfig.Protocol.modern(Mercure10ProtocolTest.ISSUER, key, key, Mercure10ProtocolTest.HUB)),
                b, Scheduler.system(), Clock.systemUTC());
        closeables.add(hub);
        return hub;
    }

    /** A 1.0 publish ({@code at+jwt} token with authorization_details), with extra header pairs. */
    private HttpResponse<String> post10(InetSocketAddress node, String form, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.getPort() + HubHandler.PATH))
                .header("Authorization", "Bearer " + Mercure10ProtocolTest.token("[" + Mercure10ProtocolTest.grant("publish", "orders", "exact") + "]"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(form));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private RawHttp subscribe10(InetSocketAddress node) throws Exception {
        RawHttp c = RawHttp.get(node, HubHandler.PATH + "?match=orders", "HTTP/1.1");
        closeables.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        return c;
    }

    /**
     * Mercure 1.0 (MERCURE-1.0.md row 41): ids are not unique; the hub accepts a reused id and
     * delivers every update. On Redis the publisher's id is therefore not the idempotency key in
     * 1.0 mode: the same id twice with other data, and twice with the same data, are four updates.
     */
    @Test
    void mercure10AReusedIdIsANewUpdateNotARetry() throws Exception {
        MercureHub a = modernNode(RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)));
        RawHttp onA = subscribe10(a.address());
        List<String> answers = new ArrayList<>();
        for (String form : List.of("topic=orders&data=first&id=order-1", "topic=orders&data=second&id=order-1",
                "topic=orders&data=same&id=order-2", "topic=orders&data=same&id=order-2")) {
            HttpResponse<String> r = post10(a.address(), form);
            assertThat(r.statusCode()).as("%s: %s", form, r.body()).isEqualTo(200);
            answers.add(r.body());
        }
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("each stored").isEqualTo(":4");
        List<SseEvent> got = onA.events(4);
        assertThat(got).extracting(SseEvent::data).containsExactly("first", "second", "same", "same");
        assertThat(got).extracting(SseEvent::id).containsExactly("order-1", "order-1", "order-2", "order-2");
    }

    /**
     * Mercure 1.0 row 41 (draft L949-952) on Redis: when ids repeat, a cursor resolves to the
     * earliest such update and everything after it is sent, later updates with the same id
     * included. Checked on the node that published and on a node started afterwards, which
     * knows the events only from Redis.
     */
    @Test
    void mercure10ACursorOnAReusedIdResumesAfterItsEarliestUpdate() throws Exception {
        MercureHub a = modernNode(RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)));
        RawHttp live = subscribe10(a.address());
        for (String form : List.of("topic=orders&data=one&id=a", "topic=orders&data=two&id=x", "topic=orders&data=three&id=b",
                "topic=orders&data=four&id=x", "topic=orders&data=five&id=c")) {
            HttpResponse<String> r = post10(a.address(), form);
            assertThat(r.statusCode()).as("%s: %s", form, r.body()).isEqualTo(200);
        }
        assertThat(live.events(5)).extracting(SseEvent::data).containsExactly("one", "two", "three", "four", "five");
        MercureHub b = modernNode(RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)));
        for (MercureHub node : List.of(a, b)) {
            RawHttp resumed = RawHttp.get(node.address(), HubHandler.PATH + "?match=orders", "HTTP/1.1", "Last-Event-ID: x");
            closeables.add(resumed);
            assertThat(resumed.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(resumed.headers.get("mercure-last-event-id")).as("the cursor found").isEqualTo("x");
            assertThat(resumed.events(3)).as("after the earliest x, the later x included")
                    .extracting(SseEvent::data).containsExactly("three", "four", "five");
        }
    }

    /**
     * Mercure 1.0 on Redis: the idempotency key is the {@code Idempotency-Key} header
     * (draft-ietf-httpapi-idempotency-key-header). A retry with the same header and content is
     * answered with the first outcome (one event); the same key with other content is 409 naming
     * the key; a malformed key is 400 naming the header.
     */
    @Test
    void mercure10IdempotencyKeyHeaderMakesARetrySafe() throws Exception {
        MercureHub a = modernNode(RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)));
        RawHttp onA = subscribe10(a.address());
        HttpResponse<String> first = post10(a.address(), "topic=orders&data=first", "Idempotency-Key", "k");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        HttpResponse<String> retried = post10(a.address(), "topic=orders&data=first", "Idempotency-Key", "k");
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo(first.body());
        HttpResponse<String> conflict = post10(a.address(), "topic=orders&data=other", "Idempotency-Key", "k");
        assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
        assertThat(conflict.body()).contains("Idempotency-Key: k").doesNotContain("id=");
        for (String bad : List.of("k".repeat(257), "tab\there")) {
            HttpResponse<String> refused = post10(a.address(), "topic=orders&data=bad", "Idempotency-Key", bad);
            assertThat(refused.statusCode()).as("%s: %s", bad, refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("Idempotency-Key");
        }
        String last = post10(a.address(), "topic=orders&data=third").body();
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once").isEqualTo(":2");
        List<SseEvent> got = onA.events(2);
        assertThat(got).extracting(SseEvent::data).containsExactly("first", "third");
        assertThat(got).extracting(SseEvent::id).containsExactly(first.body(), last);
    }

    /**
     * Mercure 1.0 on Redis, outcome unknown (redis-server stopped with {@code kill -STOP}): the 504
     * names the Idempotency-Key to retry with (the publisher's, else the one the hub assigned),
     * never the id; the retry with that header is answered with the first outcome, stored once.
     */
    @Test
    void mercure10AnUnknownOutcomeIsRetriedWithTheIdempotencyKeyHeader() throws Exception {
        MercureHub a = modernNode(RedisEventLog.builder(redis.uri()).timeout(Duration.ofSeconds(1)));
        RawHttp onA = subscribe10(a.address());
        long pid = redisPid();
        closeables.add(() -> signal(pid, "CONT"));
        signal(pid, "STOP");
        HttpResponse<String> unknown = post10(a.address(), "topic=orders&data=first&id=order-1", "Idempotency-Key", "k-1");
        signal(pid, "CONT");
        assertThat(unknown.statusCode()).as("outcome unknown: %s", unknown.body()).isEqualTo(504);
        assertThat(unknown.body()).contains("retry with the header Idempotency-Key: k-1 ").doesNotContain("id=");
        HttpResponse<String> retried = post10(a.address(), "topic=orders&data=first&id=order-1", "Idempotency-Key", "k-1");
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo("order-1");
        // without the header: the hub names the key it assigned
        signal(pid, "STOP");
        HttpResponse<String> unknown2 = post10(a.address(), "topic=orders&data=second&id=order-1");
        signal(pid, "CONT");
        assertThat(unknown2.statusCode()).as("outcome unknown: %s", unknown2.body()).isEqualTo(504);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Idempotency-Key: (urn:uuid:[0-9a-f-]+) ").matcher(unknown2.body());
        assertThat(m.find()).as(unknown2.body()).isTrue();
        HttpResponse<String> retried2 = post10(a.address(), "topic=orders&data=second&id=order-1", "Idempotency-Key", m.group(1));
        assertThat(retried2.statusCode()).as(retried2.body()).isEqualTo(200);
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("stored once each").isEqualTo(":2");
        List<SseEvent> got = onA.events(2);
        assertThat(got).extracting(SseEvent::data).containsExactly("first", "second");
        assertThat(got).extracting(SseEvent::id).containsExactly("order-1", "order-1");
    }

    /**
     * Compatibility mode 8 honours the Idempotency-Key header too (it wins over the id): two
     * publishes with the same id and other keys are two updates; a retry with the key is one.
     */
    @Test
    void compatibilityModeHonoursTheIdempotencyKeyHeader() throws Exception {
        MercureHub a = node();
        RawHttp onA = subscribe(a.address());
        String[] key = {"Idempotency-Key", "c-1"};
        HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.address().getPort() + HubHandler.PATH))
                .header("Authorization", "Bearer " + token(PUBLISHER)).header("Content-Type", "application/x-www-form-urlencoded")
                .header(key[0], key[1]).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("topic=orders&data=first&id=order-7")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        HttpResponse<String> conflict = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.address().getPort() + HubHandler.PATH))
                .header("Authorization", "Bearer " + token(PUBLISHER)).header("Content-Type", "application/x-www-form-urlencoded")
                .header(key[0], key[1]).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("topic=orders&data=other&id=order-8")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
        assertThat(conflict.body()).contains("Idempotency-Key: c-1");
        // without the header: today's 0.x behaviour, the id is the key (a retry of order-7)
        HttpResponse<String> byId = post(a.address(), "topic=orders&data=first&id=order-7");
        assertThat(byId.statusCode()).as(byId.body()).isEqualTo(200);
        assertThat(redis.command("XLEN", "{ssekit}:events")).as("header key and id are separate keys").isEqualTo(":2");
        assertThat(onA.events(2)).extracting(SseEvent::id).containsExactly("order-7", "order-7");
    }

    /**
     * Issue #29, as found: two hubs with {@code --history-events 10}, a subscriber on A, A stopped
     * with {@code kill -STOP} while 399 updates are published on B (the stream trimmed past A),
     * then {@code kill -CONT}: the subscriber is told of the hole (a {@code reset}) before the
     * updates after it, and a resume across the hole says so too.
     */
    @Test
    void aNodeStoppedWhileTheStreamIsTrimmedPastItTellsItsSubscribers() throws Exception {
        HubProcess a = HubProcess.start(dir.resolve("a"), new String(KEY, UTF_8), "--redis", redis.uri(), "--history-events", "10");
        closeables.add(() -> a.process().destroyForcibly());
        closeables.add(() -> signal(a.process().pid(), "CONT"));
        MercureHub b = node(RedisEventLog.builder(redis.uri()).maxLength(10).history(10, 1 << 20, Duration.ofHours(1)));
        RawHttp onA = subscribe(a.address());
        onA.socket.setSoTimeout(20_000);
        List<String> first = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            first.add(published(b.address(), "e" + i));
        }
        assertThat(onA.events(2)).extracting(SseEvent::id).isEqualTo(first);
        signal(a.process().pid(), "STOP");
        for (int i = 3; i <= 401; i++) {
            published(b.address(), "e" + i);
        }
        signal(a.process().pid(), "CONT");
        String epoch = first.getLast().substring(0, first.getLast().lastIndexOf('-'));
        String lastSeen = first.getLast();
        long expected = 3;
        while (true) {
            SseEvent next = onA.events(1).getFirst();
            if (next.type().equals("reset")) {
                assertThat(next.data()).isEqualTo("{\"lastEventId\":\"" + lastSeen + "\",\"reason\":\"expired\"}");
                break;
            }
            assertThat(next.id()).as("no jump without a notice").isEqualTo(epoch + "-" + expected);
            lastSeen = next.id();
            expected++;
        }
        SseEvent afterHole = onA.events(1).getFirst();
        assertThat(Long.parseLong(afterHole.id().substring(epoch.length() + 1))).isGreaterThan(expected);
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.address().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).doesNotContain("ssekit_redis_gaps_total 0\n");
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
