package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.SubscriptionEventsHubTest.ISSUER;
import static dev.ssekit.hub.SubscriptionEventsHubTest.HUB;
import static dev.ssekit.hub.SubscriptionEventsHubTest.WATCH;
import static dev.ssekit.hub.SubscriptionEventsHubTest.detail;
import static dev.ssekit.hub.SubscriptionEventsHubTest.enc;
import static dev.ssekit.hub.SubscriptionEventsHubTest.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.redis.RedisEventLog;
import dev.ssekit.testkit.BlackholeProxy;
import dev.ssekit.testkit.RawHttp;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #24 on a cluster: hub nodes (in-process {@link MercureHub}s, each on its own port and its own
 * {@link RedisEventLog}) sharing one real redis-server, with Mercure 1.0 subscription events and the
 * subscriptions API on. A watcher on one node hears every node's subscribers start and end; the API
 * on any node lists every live node's subscriptions; a node cut off from Redis drops out of the
 * list; an update's id resumes exactly, on any node. Everything over real HTTP.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubClusterSubscriptionsTest {

    @TempDir
    Path dir;

    private RedisServer redis;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Broadcaster> broadcasters = new ArrayList<>();
    private String watcherToken;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        watcherToken = token("[" + detail("subscribe", WATCH, "urlpattern", null) + ","
                + detail("subscribe", Subscriptions.PATH + "/*", "urlpattern", null) + ","
                + detail("subscribe", Subscriptions.PATH, "exact", null) + "]");
    }

    @AfterEach
    void stop() throws Exception {
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

    /** A 1.0 node with subscription events on, on Redis at {@code uri}, its subscribers listed {@code ttl} after its last heartbeat. */
    private MercureHub node(String uri, Duration ttl) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        RedisEventLog log = RedisEventLog.builder(uri).timeout(Duration.ofSeconds(2)).history(10_000, 64L << 20, Duration.ofHours(1))
                .build();
        closeables.add(log);
        Broadcaster b = Broadcaster.builder().log(log).build();
        broadcasters.add(b);
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 100,
                1000, true, false, "", Duration.ofSeconds(10), Optional.empty()).withProtocol(HubConfig.Protocol.modern(ISSUER, key, key,
                        HUB)), ConnectionLifetime.Settings.NONE, b, Scheduler.system(), Clock.systemUTC(), ttl);
        closeables.add(hub);
        return hub;
    }

    private MercureHub node() {
        return node(redis.uri(), MercureHub.PRESENCE_TTL);
    }

    /** A hub alone (no Redis), with a history of 10,000 updates: what a cursor means on one node. */
    private MercureHub alone() {
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster b = Broadcaster.builder().history(10_000, 64L << 20, Duration.ofHours(1)).build();
        broadcasters.add(b);
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 100,
                1000, true, false, "", Duration.ofSeconds(10), Optional.empty()).withProtocol(HubConfig.Protocol.modern(ISSUER, key, key,
                        HUB)), b, Scheduler.system(), Clock.systemUTC());
        closeables.add(hub);
        return hub;
    }

    private RawHttp subscribe(MercureHub node, String query, String... headers) throws Exception {
        RawHttp c = RawHttp.get(node.address(), MercureProtocol.PATH + "?" + query, "HTTP/1.1", headers);
        closeables.add(c);
        assertThat(c.statusLine).isEqualTo("HTTP/1.1 200 OK");
        // an update from another node crosses Redis twice (presence write, log read): on a loaded CI machine
        // (load 10-12) it once took longer than the testkit's 10 s read timeout; the bound stays preemptive
        c.socket.setSoTimeout(30_000);
        return c;
    }

    private RawHttp watch(MercureHub node, String... headers) throws Exception {
        return watchWith(node, "", headers);
    }

    /** A watcher, with {@code more} in its query (e.g. {@code &match=news}). */
    private RawHttp watchWith(MercureHub node, String more, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of(headers));
        all.add("Authorization: Bearer " + watcherToken);
        return subscribe(node, "match_urlpattern=" + enc(WATCH) + more, all.toArray(String[]::new));
    }

    private HttpResponse<String> get(MercureHub node, String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort() + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + watcherToken);
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String publish(MercureHub node, String topic) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.address().getPort()
                + MercureProtocol.PATH)).header("Authorization", "Bearer " + token("[" + detail("publish", "*", "exact", null) + "]"))
                .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString("topic=" + enc(topic) + "&data=x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("publish: %s", r.body()).isEqualTo(200);
        return r.body();
    }

    /** The subscription updates' matches, as listed by the API on {@code node}. */
    private List<String> listed(MercureHub node) throws Exception {
        HttpResponse<String> r = get(node, Subscriptions.PATH);
        assertThat(r.statusCode()).as("the API: %s", r.body()).isEqualTo(200);
        return SubscriptionEventsProtocolTest.rows(JSON.std.mapFrom(r.body()).get("subscriptions")).stream()
                .map(m -> (String) ((Map<?, ?>) m).get("match")).toList();
    }

    /** Runs a Lua script on Redis that returns an integer. */
    private long redisInt(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("EVAL", script, "0"));
        command.addAll(List.of(args));
        String reply = redis.command(command.toArray(String[]::new));
        assertThat(reply).as("an integer reply").startsWith(":");
        return Long.parseLong(reply.substring(1));
    }

    /** Redis's clock in ms (what the presence's heartbeats are stamped with). */
    private long redisMillis() throws Exception {
        return redisInt("local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)");
    }

    /**
     * How many nodes in the presence's node set made a heartbeat at or after {@code ms} (Redis time): a
     * heartbeat lists its node until its time plus {@code ttl}.
     */
    private long nodesBeatSince(long ms, Duration ttl) throws Exception {
        return redisInt("""
                local k = redis.call('KEYS', '*:presence:nodes')[1]
                if not k then return 0 end
                return redis.call('ZCOUNT', k, ARGV[1], '+inf')
                """, Long.toString(ms + ttl.toMillis()));
    }

    /**
     * Waits until {@code node} made {@code changes} subscription changes in all and its presence logged a write
     * that failed (Redis away): what it made since is not in Redis.
     */
    private static void awaitChangesNotWritten(MercureHub node, long changes, LogCapture log) {
        await("the changes made on the node").atMost(Duration.ofSeconds(10)).until(() -> node.subscriptions().changes() >= changes);
        await("a presence write failed").atMost(Duration.ofSeconds(20)).until(() -> log.records().stream()
                .anyMatch(r -> r.getLoggerName().equals(dev.ssekit.redis.RedisPresence.class.getName())
                        && String.valueOf(r.getMessage()).contains("could not be written")));
    }

    /** The cursor in the API's Link header. */
    private static String cursor(HttpResponse<String> r) {
        String link = r.headers().firstValue("link").orElseThrow();
        int from = link.indexOf("last-event-id=\"") + 15;
        return link.substring(from, link.indexOf('"', from));
    }

    /** The watchers' own matchers: the updates about them are not what the tests look at. */
    private static final Set<String> WATCHERS = Set.of(WATCH, "public", "news");

    /** The next subscription update on a watcher's stream (hub updates and those about watchers skipped). */
    private static SseEvent nextUpdate(RawHttp watcher) throws Exception {
        for (int i = 0; i < 1000; i++) {
            SseEvent e = watcher.events(1).getFirst();
            if (e.type().equals("mercure") && !WATCHERS.contains((String) doc(e).get("match"))) {
                return e;
            }
        }
        throw new AssertionError("no subscription update");
    }

    private static Map<String, Object> doc(SseEvent e) throws Exception {
        return JSON.std.mapFrom(e.data());
    }

    @Test
    void aWatcherOnNodeAHearsSubscribersOfNodeBAndTheApiOnEveryNodeListsThem() throws Exception {
        MercureHub a = node();
        MercureHub b = node();
        RawHttp watcher = watch(a);
        RawHttp anonymousWatcher = subscribe(a, "match_urlpattern=" + enc(WATCH) + "&match=public");
        String book = "https://example.com/books/1";
        long storedBefore = broadcasters.get(0).log().lastSequence();
        RawHttp reader = subscribe(b, "match=" + enc(book), "Authorization: Bearer "
                + token("[" + detail("subscribe", "*", "exact", "{\"user\":\"Ada\"}") + "]"));

        // the same document as a local subscriber's, payload included
        Map<String, Object> started = doc(nextUpdate(watcher));
        String subscriber = (String) started.get("subscriber");
        assertThat(started).containsEntry("match", book).containsEntry("active", true).containsEntry("match_type", "exact")
                .containsEntry("payload", Map.of("user", "Ada"))
                .containsEntry("id", Subscriptions.PATH + "/exact/" + Subscriptions.encode(book) + "/" + Subscriptions.encode(subscriber));

        // every node lists it; a single subscription of node B is found on node A
        assertThat(listed(a)).contains(book);
        assertThat(listed(b)).contains(book);
        HttpResponse<String> one = get(a, (String) started.get("id"));
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(JSON.std.mapFrom(one.body())).isEqualTo(started);
        String etag = one.headers().firstValue("etag").orElseThrow();
        assertThat(get(a, (String) started.get("id"), "If-None-Match", etag).statusCode()).isEqualTo(304);

        // an anonymous subscriber on B with more matchers than its budget: the first 32 announced and listed
        StringBuilder many = new StringBuilder("match=m0");
        for (int i = 1; i < Subscriptions.ANONYMOUS_BUDGET + 8; i++) {
            many.append("&match=m").append(i);
        }
        subscribe(b, many.toString());
        // the marker's update after the others (a stream's head goes out before its subscriber is registered)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed(a)).contains("m0"));
        subscribe(b, "match=marker", "Authorization: Bearer " + token("[" + detail("subscribe", "*", "exact", null) + "]"));
        List<String> announced = new ArrayList<>();
        for (Map<String, Object> d = doc(nextUpdate(watcher)); !d.get("match").equals("marker"); d = doc(nextUpdate(watcher))) {
            announced.add((String) d.get("match"));
        }
        assertThat(announced).as("an anonymous subscriber's announced subscriptions").hasSize(Subscriptions.ANONYMOUS_BUDGET)
                .startsWith("m0", "m1").endsWith("m31");
        // in a cluster what one connection keeps in Redis is bounded as its announcements are (review rev1, F3):
        // the cluster lists what it announced, the node alone would list all 40
        assertThat(listed(a)).as("the announced listed").contains("m31", "m0", "marker", book).doesNotContain("m32", "m39");
        // the announcements are not the hub's updates: nothing stored in its history, nothing for the anonymous watcher
        assertThat(broadcasters.get(0).log().lastSequence()).as("hub events stored").isEqualTo(storedBefore);
        publish(b, "public");
        assertThat(anonymousWatcher.events(1).getFirst().type()).as("the anonymous watcher's first event").isEqualTo("message");

        // the end, announced on A; the ETag on A changes; gone from the list on every node
        reader.close();
        Map<String, Object> ended = doc(nextUpdate(watcher));
        assertThat(ended).containsEntry("match", book).containsEntry("active", false).containsEntry("subscriber", subscriber);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(listed(a)).doesNotContain(book);
            assertThat(listed(b)).doesNotContain(book);
        });
        assertThat(get(a, (String) started.get("id"), "If-None-Match", etag).statusCode()).isEqualTo(404);
    }

    /**
     * Review i24o item 1: an If-None-Match naming the current version in a non-canonical form ({@code /0012},
     * {@code /+12}) is not the ETag: the list is read and sent (200), never a 5xx; the exact ETag still gets 304.
     */
    @Test
    void aNonCanonicalVersionInIfNoneMatchGetsTheListNotA5xx() throws Exception {
        MercureHub a = node();
        subscribe(a, "match=on-a");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed(a)).contains("on-a"));
        String etag = get(a, Subscriptions.PATH).headers().firstValue("etag").orElseThrow();
        int slash = etag.lastIndexOf('/');
        String head = etag.substring(0, slash + 1);
        String version = etag.substring(slash + 1, etag.length() - 1);
        for (String odd : List.of(head + "0" + version + "\"", head + "+" + version + "\"", "W/" + head + "00" + version + "\"")) {
            HttpResponse<String> r = get(a, Subscriptions.PATH, "If-None-Match", odd);
            assertThat(r.statusCode()).as("If-None-Match %s (ETag %s): %s", odd, etag, r.body()).isEqualTo(200);
            assertThat(r.body()).contains("on-a");
        }
        assertThat(get(a, Subscriptions.PATH, "If-None-Match", etag).statusCode()).as("the ETag itself").isEqualTo(304);
    }

    @Test
    void aNodeCutOffFromRedisDropsOutOfTheListOnceItsHeartbeatExpires() throws Exception {
        MercureHub a = node();
        BlackholeProxy proxy = BlackholeProxy.start(new InetSocketAddress("127.0.0.1", redis.port()));
        closeables.add(proxy);
        MercureHub b = node("redis://127.0.0.1:" + proxy.address().getPort(), Duration.ofMillis(1500));
        subscribe(a, "match=on-a");
        subscribe(b, "match=on-b");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed(a)).contains("on-a", "on-b"));
        String before = get(a, Subscriptions.PATH).headers().firstValue("etag").orElseThrow();

        proxy.blackhole(); // node B is gone as far as Redis can tell (no close, no goodbye)
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(listed(a)).containsExactly("on-a"));
        assertThat(get(a, Subscriptions.PATH, "If-None-Match", before).statusCode()).as("the ETag changed").isEqualTo(200);
        // a node started again (a new process, or the same one built again) is a new node: its old subscribers stay gone
        MercureHub c = node();
        subscribe(c, "match=on-c");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed(a)).containsExactlyInAnyOrder("on-a", "on-c"));
    }

    @Test
    void aDeadNodesSubscribersAreAnnouncedInactiveOnceOnEverySurvivorWithIdsThatResumeAnywhere() throws Exception {
        Duration ttl = Duration.ofMillis(1500);
        MercureHub a = node(redis.uri(), ttl);
        MercureHub c = node(redis.uri(), ttl); // two survivors: both notice the death, one announces it
        BlackholeProxy proxy = BlackholeProxy.start(new InetSocketAddress("127.0.0.1", redis.port()));
        closeables.add(proxy);
        MercureHub b = node("redis://127.0.0.1:" + proxy.address().getPort(), ttl);
        RawHttp watcher = watch(a);
        RawHttp watcherOnC = watch(c);
        subscribe(b, "match=on-b");
        SseEvent started = nextUpdate(watcher);
        assertThat(doc(started)).containsEntry("match", "on-b").containsEntry("active", true);
        String subscriber = (String) doc(started).get("subscriber");
        assertThat(doc(nextUpdate(watcherOnC))).containsEntry("match", "on-b").containsEntry("active", true);

        proxy.blackhole(); // node B dies as far as Redis can tell: no close, no goodbye, its heartbeat expires
        SseEvent ended = nextUpdate(watcher); // the watcher's own timeout (RawHttp) bounds the wait
        assertThat(doc(ended)).as("node B's subscriber, announced inactive on node A").containsEntry("match", "on-b")
                .containsEntry("active", false).containsEntry("subscriber", subscriber);
        SseEvent endedOnC = nextUpdate(watcherOnC);
        assertThat(endedOnC.id()).as("the same update, with the same id, on every node").isEqualTo(ended.id());
        assertThat(doc(endedOnC)).isEqualTo(doc(ended));
        assertThat(listed(a)).doesNotContain("on-b");

        // exactly once: several heartbeats of both survivors later (each survivor's heartbeat, as Redis holds it,
        // made three TTLs after now), the next update is a new subscriber's
        long now = redisMillis();
        await("both survivors heartbeat three TTLs later").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> nodesBeatSince(now + 3 * ttl.toMillis(), ttl) == 2);
        subscribe(c, "match=marker");
        assertThat(doc(nextUpdate(watcher)).get("match")).as("the update after the inactive one").isEqualTo("marker");
        // its id resumes on another node: from the active one, the inactive one comes again, once
        RawHttp resumed = watch(c, "Last-Event-ID: " + started.id());
        SseEvent again = nextUpdate(resumed);
        assertThat(again.id()).isEqualTo(ended.id());
        assertThat(doc(nextUpdate(resumed)).get("match")).isEqualTo("marker");
    }

    @Test
    void subscribersThatEndOrStartWhileRedisIsAwayForAMomentAreAnnouncedOnceItIsBack() throws Exception {
        Duration ttl = Duration.ofSeconds(10); // longer than the outage: node B is never dropped
        MercureHub a = node(redis.uri(), ttl);
        MercureHub b = node(redis.uri(), ttl);
        RawHttp watcher = watch(a);
        RawHttp ends = subscribe(b, "match=ends");
        assertThat(doc(nextUpdate(watcher))).containsEntry("match", "ends").containsEntry("active", true);

        long changes = b.subscriptions().changes();
        try (LogCapture log = LogCapture.start()) {
            redis.kill(); // Redis away for a moment (it keeps its data: appendonly)
            ends.close(); // its removal cannot reach Redis
            subscribe(b, "match=starts"); // nor its put
            // both changes made on node B, and its write of the first failed (the second waits behind it)
            awaitChangesNotWritten(b, changes + 2, log);
        }
        redis.restart();

        Set<String> heard = new HashSet<>();
        for (int i = 0; i < 2; i++) { // the watcher's own timeout (RawHttp) bounds the wait
            Map<String, Object> d = doc(nextUpdate(watcher));
            heard.add(d.get("match") + " " + d.get("active"));
        }
        assertThat(heard).as("node A's watcher is told of both changes node B could not write at once")
                .containsExactlyInAnyOrder("ends false", "starts true");
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(listed(a)).containsExactlyInAnyOrder("starts", WATCH));
    }

    @Test
    void redisLosingEveryKeyGetsEachNodesLiveSubscribersBackAndNotTheOnesThatEnded() throws Exception {
        MercureHub a = node(redis.uri(), Duration.ofMillis(1500));
        subscribe(a, "match=stays");
        RawHttp leaving = subscribe(a, "match=leaves");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed(a)).containsExactlyInAnyOrder("stays", "leaves"));
        long changes = a.subscriptions().changes();
        try (LogCapture log = LogCapture.start()) {
            redis.command("FLUSHALL"); // every key lost (Redis restarted without its data, say)...
            redis.kill(); // ...and Redis gone for a moment
            leaving.close(); // its removal cannot reach Redis
            awaitChangesNotWritten(a, changes + 1, log);
        }
        redis.restart();
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .untilAsserted(() -> assertThat(listed(a)).containsExactly("stays"));
    }

    /**
     * Review (rev1): a watcher that resumes on a node started after its cursor (a scale-out, a rolling
     * deploy) misses the updates made between its cursor and that node's start: the node reads the
     * notices stream only from its newest entry when it starts, and resumes "from now" (an empty index)
     * or from the oldest it holds.
     */
    @Test
    void reviewAWatcherResumingOnANodeStartedAfterItsCursorMissesNoUpdate() throws Exception {
        MercureHub a = node();
        MercureHub b = node();
        RawHttp watcher = watchWith(a, "&match=news");
        subscribe(b, "match=one");
        SseEvent one = nextUpdate(watcher);
        watcher.close();
        subscribe(b, "match=two"); // while the watcher is away
        await("match two's notice in Redis's stream").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> redisInt("""
                        local k = redis.call('KEYS', '*:presence:notices')[1]
                        if not k then return 0 end
                        for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
                          for i = 1, #e[2], 2 do
                            if e[2][i] == 'd' and string.find(e[2][i + 1], ARGV[1], 1, true) then return 1 end
                          end
                        end
                        return 0
                        """, "\"two\"") == 1);
        MercureHub c = node(); // a new node
        RawHttp again = watchWith(c, "&match=news", "Last-Event-ID: " + one.id());
        subscribe(b, "match=three");
        List<String> got = new ArrayList<>();
        while (!got.contains("three")) {
            SseEvent e = again.events(1).getFirst();
            if (e.type().equals("mercure") && !WATCHERS.contains((String) doc(e).get("match"))) {
                got.add((String) doc(e).get("match"));
            }
        }
        assertThat(got).as("updates after " + one.id()).containsExactly("two", "three");
        // a cursor older than every update the node holds (as one older than the stream keeps): replays what
        // is held, and says so as the hub does for an event id it no longer holds
        String hubId = publish(c, "news");
        RawHttp old = watchWith(c, "&match=news", "Last-Event-ID: " + Subscriptions.ID_PREFIX + "1-0/" + hubId);
        assertThat(old.headers.get("mercure-last-event-id")).as("resuming from before the updates held").isEqualTo("earliest");
        RawHttp held = watchWith(c, "&match=news", "Last-Event-ID: " + one.id().replace("/earliest", "/" + hubId));
        assertThat(held.headers.get("mercure-last-event-id")).as("a cursor the node holds").isEqualTo(hubId);
        SseEvent first = nextUpdate(old);
        assertThat(doc(first).get("match")).as("the oldest update held comes first").isEqualTo("one");
    }

    @Test
    void anUpdatesIdResumesExactlyAfterItOnAnotherNode() throws Exception {
        MercureHub a = node();
        MercureHub b = node();
        RawHttp watcher = watchWith(a, "&match=news");
        publish(a, "news"); // the hub's newest id is a real one: every update used to carry it as its id
        // one at a time: a subscription is activated (and announced) after its head went out, so two
        // subscribed back to back may be announced in either order
        subscribe(b, "match=one");
        SseEvent one = nextUpdate(watcher);
        subscribe(b, "match=two");
        SseEvent two = nextUpdate(watcher);
        assertThat(List.of(doc(one).get("match"), doc(two).get("match"))).containsExactly("one", "two");
        assertThat(one.id()).as("an update's id is its own").isNotEqualTo(two.id());
        watcher.close();
        subscribe(b, "match=three"); // while the watcher is away
        publish(a, "news");

        // resumes on node B from the first update's id: the second and third update once each, the hub's
        // update published meanwhile once, and not the one before the cursor
        RawHttp again = watchWith(b, "&match=news", "Last-Event-ID: " + one.id());
        subscribe(a, "match=four");
        List<String> got = new ArrayList<>();
        int hubUpdates = 0;
        while (!got.contains("four")) {
            SseEvent e = again.events(1).getFirst();
            if (e.type().equals("mercure")) {
                if (!WATCHERS.contains((String) doc(e).get("match"))) {
                    got.add((String) doc(e).get("match"));
                }
            } else {
                hubUpdates++;
            }
        }
        assertThat(got).containsExactly("two", "three", "four");
        assertThat(hubUpdates).as("hub updates replayed").isEqualTo(1);
    }

    @Test
    void aCursorTheApiHandedOutLongAgoStillResumesWithoutLoss() throws Exception {
        MercureHub a = alone();
        publish(a, "news"); // the cursor is this update's id, not "earliest"
        String cursor = cursor(get(a, Subscriptions.PATH));
        subscribe(a, "match=after-the-cursor");
        // more cursors handed out than the hub keeps (each publish makes the next listing's cursor a new one)
        for (int i = 0; i <= Subscriptions.ANNOUNCED_HISTORY; i++) {
            String id = broadcasters.get(0).publish(dev.ssekit.SseMessage.of("x" + i), "elsewhere");
            await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                    .until(() -> cursor(get(a, Subscriptions.PATH)).equals(id));
        }
        RawHttp watcher = watch(a, "Last-Event-ID: " + cursor);
        subscribe(a, "match=later");
        assertThat(doc(nextUpdate(watcher)).get("match")).as("the first update after the cursor").isEqualTo("after-the-cursor");
        assertThat(doc(nextUpdate(watcher)).get("match")).isEqualTo("later");
    }

    @Test
    void compatibilityModeV8SubscriptionsAreAnnouncedAndListedAcrossNodesToo() throws Exception {
        List<MercureHub> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) { // compatibility mode 8: 0.x tokens, topic=, v8 ids
            JwtVerifier key = JwtVerifier.secret(KEY);
            RedisEventLog log = RedisEventLog.builder(redis.uri()).history(10_000, 64L << 20, Duration.ofHours(1)).build();
            closeables.add(log);
            MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 1 << 20, 100,
                    1000, true, false, "", Duration.ofSeconds(10), Optional.empty()), Broadcaster.builder().log(log).build(),
                    Scheduler.system(), Clock.systemUTC());
            closeables.add(hub);
            nodes.add(hub);
        }
        String legacy = JwtVerifierTest.token("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        RawHttp watcher = subscribe(nodes.get(0), "topic=" + enc(Subscriptions.PATH + "{/topic}{/subscriber}"),
                "Authorization: Bearer " + legacy);
        subscribe(nodes.get(1), "topic=books", "Authorization: Bearer " + legacy);
        Map<String, Object> started = null;
        for (int i = 0; i < 10 && started == null; i++) {
            SseEvent e = watcher.events(1).getFirst();
            Map<String, Object> d = doc(e);
            if ("books".equals(d.get("topic"))) {
                started = d;
            }
        }
        assertThat(started).as("node B's v8 subscription announced on node A").isNotNull().containsEntry("active", true)
                .containsEntry("id", LegacySubscriptions.id("books", (String) started.get("subscriber")));
        HttpResponse<String> byTopic = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes.get(0).address().getPort()
                + Subscriptions.PATH + "/books")).header("Authorization", "Bearer " + legacy).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(byTopic.statusCode()).isEqualTo(200);
        assertThat(SubscriptionEventsProtocolTest.rows(JSON.std.mapFrom(byTopic.body()).get("subscriptions"))).containsExactly(started);
    }
}
