package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.NOW;
import static dev.ssekit.hub.JwtVerifierTest.tokenUnchecked;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.ManualScheduler;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The status feed without a server: its snapshots on a manual clock (figures, rates, the listed
 * subscriptions), its one timer (a snapshot at once for the first viewer, then one a period, none
 * once nobody watches), and the protocol's {@code /status} and {@code /status/events}, authorized
 * exactly as the subscriptions API. Streams run on in-memory connections.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StatusFeedTest {

    private static final String APP = "https://app.example.com";
    private static final String BOOK = "https://example.com/books/1";
    private static final String SUBSCRIBE_ALL = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"*\"]}}");
    private static final String SUBSCRIPTIONS_READER = tokenUnchecked(
            "{\"mercure\":{\"subscribe\":[\"" + Subscriptions.PATH + "{/topic}{/subscriber}\"]}}");
    private static final String BOOKS_ONLY = tokenUnchecked("{\"mercure\":{\"subscribe\":[\"" + BOOK + "\"]}}");

    private final Broadcaster broadcaster = Broadcaster.create();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        broadcaster.close();
    }

    // ---- the feed

    @Test
    void aSnapshotHasTheFiguresAndTheRatesSinceThePreviousOne() throws Exception {
        ManualScheduler clock = new ManualScheduler();
        Subscriptions subscriptions = new Subscriptions(broadcaster, false);
        StatusFeed feed = new StatusFeed(broadcaster, subscriptions, clock, clock, Runnable::run);
        BufferTransport subscriber = new BufferTransport();
        broadcaster.subscribe(connection(subscriber), "a");
        for (int i = 0; i < 3; i++) {
            broadcaster.publish(SseMessage.of("x" + i), "a");
        }
        broadcaster.publish(SseMessage.of("nobody's"), "b");
        await().atMost(Duration.ofSeconds(10)).until(() -> broadcaster.stats().delivered() == 3);

        Map<String, Object> first = json(feed.snapshot());
        assertThat(first).containsEntry("connections", 1).containsEntry("published", 4).containsEntry("delivered", 3)
                .containsEntry("evictions", 0).containsEntry("dropped", 0).containsEntry("historyEvents", 4)
                .containsEntry("subscriptionCount", 0).containsEntry("subscriptions", List.of());
        assertThat(first).as("no previous sample: no rates").containsEntry("publishesPerSecond", null)
                .containsEntry("deliveriesPerSecond", null);
        assertThat(((Number) first.get("historyBytes")).longValue()).isPositive();
        assertThat((Map<?, ?>) first.get("evictionsByReason")).allSatisfy((reason, n) -> assertThat(n).isEqualTo(0));

        for (int i = 0; i < 6; i++) {
            broadcaster.publish(SseMessage.of("y" + i), "a");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> broadcaster.stats().delivered() == 9);
        clock.advance(Duration.ofSeconds(4));
        Map<String, Object> second = json(feed.snapshot());
        assertThat(second).containsEntry("published", 10).containsEntry("delivered", 9)
                .containsEntry("publishesPerSecond", 1.5).containsEntry("deliveriesPerSecond", 1.5);
        clock.advance(Duration.ofSeconds(1));
        assertThat(json(feed.snapshot())).containsEntry("publishesPerSecond", 0.0);
    }

    @Test
    void aSnapshotCountsEveryActiveSubscriptionAndListsTheFirstHundred() throws Exception {
        ManualScheduler clock = new ManualScheduler();
        Subscriptions subscriptions = new Subscriptions(broadcaster, false);
        StatusFeed feed = new StatusFeed(broadcaster, subscriptions, clock, clock, Runnable::run);
        int n = StatusFeed.SHOWN + 1;
        for (int i = 0; i < n; i++) {
            subscriptions.activate(subscriptions.reserve(n, List.of("https://example.com/t/" + i), Optional.of(Map.of("user", "u" + i)))
                    .orElseThrow());
        }
        Map<String, Object> s = json(feed.snapshot());
        assertThat(s).containsEntry("subscriptionCount", n);
        List<?> listed = (List<?>) s.get("subscriptions");
        assertThat(listed).hasSize(StatusFeed.SHOWN);
        List<String> subscribers = listed.stream().map(m -> (String) ((Map<?, ?>) m).get("subscriber")).toList();
        assertThat(subscribers).as("by subscriber, as the subscriptions API").isSorted();
        assertThat(listed).allSatisfy(m -> assertThat(m).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("type", "subscription")
                .containsEntry("active", true).containsKeys("id", "match_type", "match", "payload"));
    }

    @Test
    void theFirstViewerGetsASnapshotAtOnceThenOneAPeriodAndTheTimerStopsWithTheLastViewer() throws Exception {
        ManualScheduler clock = new ManualScheduler();
        AtomicInteger ticks = new AtomicInteger();
        Scheduler counting = (task, delay) -> {
            if (delay.equals(StatusFeed.PERIOD)) {
                ticks.incrementAndGet(); // the viewers' broadcaster schedules other delays (its sweep)
            }
            return clock.schedule(task, delay);
        };
        StatusFeed feed = new StatusFeed(broadcaster, new Subscriptions(broadcaster, false), counting, clock,
                Runnable::run);
        toClose.add(feed);
        assertThat(clock.pending()).as("nothing before the first viewer").isEmpty();

        BufferTransport one = new BufferTransport();
        SseConnection oneConn = connection(one);
        feed.open(oneConn);
        assertThat(awaitSnapshots(one, 1).getFirst()).containsEntry("connections", 0).containsEntry("publishesPerSecond", null);
        assertThat(ticks).hasValue(1);

        for (int i = 0; i < 5; i++) {
            broadcaster.publish(SseMessage.of("e" + i), "a");
        }
        clock.advance(StatusFeed.PERIOD);
        Map<String, Object> second = awaitSnapshots(one, 2).get(1);
        assertThat(second).as("viewers are not counted").containsEntry("connections", 0).containsEntry("published", 5)
                .containsEntry("publishesPerSecond", 5.0);
        assertThat(ticks).hasValue(2);

        BufferTransport two = new BufferTransport();
        SseConnection twoConn = connection(two);
        feed.open(twoConn);
        assertThat(awaitSnapshots(two, 1).getFirst()).as("a later viewer gets the newest snapshot at once").isEqualTo(second);
        assertThat(ticks).as("no second timer").hasValue(2);
        assertThat(feed.viewers()).isEqualTo(2);

        oneConn.close();
        twoConn.close();
        assertThat(feed.viewers()).isZero();
        clock.advance(StatusFeed.PERIOD); // the scheduled tick runs, and schedules no other
        clock.advance(StatusFeed.PERIOD.multipliedBy(3));
        assertThat(ticks).as("no tick once nobody watches").hasValue(2);

        BufferTransport three = new BufferTransport();
        feed.open(connection(three));
        assertThat(awaitSnapshots(three, 2).get(1)).as("a new first viewer: a fresh snapshot, rates from scratch")
                .containsEntry("publishesPerSecond", null);

        feed.close();
        assertThat(three.await("event: shutdown")).isNotEmpty();
        three.awaitClosed();
        BufferTransport late = new BufferTransport();
        feed.open(connection(late));
        late.awaitClosed();
    }

    // ---- the protocol: /status and /status/events

    private MercureProtocol protocol(boolean anonymous, boolean subscriptions, int maxConnections) {
        JwtVerifier key = JwtVerifier.secret(KEY);
        HubConfig config = new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, anonymous, Set.of(APP), 64 * 1024,
                10, maxConnections, subscriptions, false, "", Duration.ofSeconds(10), Optional.empty());
        MercureProtocol protocol = new MercureProtocol(config, broadcaster, new Subscriptions(broadcaster, subscriptions),
                new TopicSelectorStore(1_000), Scheduler.system(), Clock.fixed(NOW, ZoneOffset.UTC));
        toClose.add(protocol::close);
        return protocol;
    }

    private static HubRequest get(String target, String... headerPairs) {
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i].toLowerCase(Locale.ROOT), headerPairs[i + 1]);
        }
        return new HubRequest("GET", rawPath, rawPath, q < 0 ? "" : target.substring(q + 1), headers, new byte[0]);
    }

    /**
     * The decision, made without waiting on anything outside the hub (a static key verifies at once):
     * before handle returned, or for a subscription that needs compiling on the hub's compiler threads.
     */
    private static MercureProtocol.Decision decide(MercureProtocol p, HubRequest r) {
        CompletableFuture<MercureProtocol.Decision> f = p.handle(r).toCompletableFuture();
        try {
            f.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // asserted below
        }
        assertThat(f).as("decided without waiting").isDone();
        return f.join();
    }

    /** 200 for a stream, else the reply's status. */
    private static int status(MercureProtocol.Decision d) {
        if (d instanceof MercureProtocol.Stream s) {
            s.abandon();
            return 200;
        }
        return ((MercureProtocol.Reply) d).response().status();
    }

    @Test
    void thePageIsPublicAndServedWithTheSubscriptionsApiOnly() {
        for (boolean anonymous : List.of(true, false)) {
            HubResponse page = ((MercureProtocol.Reply) decide(protocol(anonymous, true, 10), get(StatusFeed.PAGE))).response();
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.headers()).containsEntry("Content-Type", "text/html; charset=utf-8");
            // the 1.0 token goes in the Authorization header: the page reads the stream with fetch, never with ?authorization=
            assertThat(page.bodyText()).contains("fetch('" + StatusFeed.EVENTS + "'").contains("Authorization: 'Bearer ' + token")
                    .doesNotContain("authorization=")
                    .doesNotContain("http://").doesNotContain("https://"); // nothing from elsewhere: no CDN, no internet
        }
        MercureProtocol without = protocol(true, false, 10);
        assertThat(status(decide(without, get(StatusFeed.PAGE)))).isEqualTo(404);
        assertThat(status(decide(without, get(StatusFeed.EVENTS, "Authorization", "Bearer " + SUBSCRIBE_ALL)))).isEqualTo(404);
        assertThat(status(decide(without, get(Subscriptions.PATH, "Authorization", "Bearer " + SUBSCRIBE_ALL)))).isEqualTo(404);
    }

    @Test
    void theStreamIsAuthorizedExactlyAsTheSubscriptionsApi() {
        String expired = tokenUnchecked("{\"exp\":" + (NOW.getEpochSecond() - 10) + ",\"mercure\":{\"subscribe\":[\"*\"]}}");
        Map<String, List<String>> cases = new java.util.LinkedHashMap<>();
        cases.put("no token", List.of());
        cases.put("not a token", List.of("Authorization", "Bearer not-a-token"));
        cases.put("not Bearer", List.of("Authorization", "Basic eDp5"));
        cases.put("expired", List.of("Authorization", "Bearer " + expired));
        cases.put("a token for books only", List.of("Authorization", "Bearer " + BOOKS_ONLY));
        cases.put("a publisher token", List.of("Authorization", "Bearer " + tokenUnchecked("{\"mercure\":{\"publish\":[\"*\"]}}")));
        cases.put("subscribe *", List.of("Authorization", "Bearer " + SUBSCRIBE_ALL));
        cases.put("the subscriptions template", List.of("Authorization", "Bearer " + SUBSCRIPTIONS_READER));
        cases.put("?authorization=", List.of("?", SUBSCRIPTIONS_READER));
        cases.put("cookie from an allowed origin", List.of("Cookie", Authorizer.COOKIE + "=" + SUBSCRIBE_ALL, "Origin", APP));
        cases.put("cookie without origin", List.of("Cookie", Authorizer.COOKIE + "=" + SUBSCRIBE_ALL));
        cases.put("cookie from another origin", List.of("Cookie", Authorizer.COOKIE + "=" + SUBSCRIBE_ALL, "Origin", "https://evil.example"));
        Map<String, Integer> expected = Map.ofEntries(Map.entry("no token", 401), Map.entry("not a token", 401),
                Map.entry("not Bearer", 401), Map.entry("expired", 401), Map.entry("a token for books only", 403),
                Map.entry("a publisher token", 403), Map.entry("subscribe *", 200), Map.entry("the subscriptions template", 200),
                Map.entry("?authorization=", 200), Map.entry("cookie from an allowed origin", 200),
                Map.entry("cookie without origin", 401), Map.entry("cookie from another origin", 403));
        for (boolean anonymous : List.of(true, false)) {
            MercureProtocol p = protocol(anonymous, true, 10);
            cases.forEach((name, how) -> {
                String query = how.size() == 2 && how.getFirst().equals("?") ? "?authorization=" + URLEncoder.encode(how.get(1), UTF_8) : "";
                String[] headers = query.isEmpty() ? how.toArray(String[]::new) : new String[0];
                int api = status(decide(p, get(Subscriptions.PATH + query, headers)));
                int stream = status(decide(p, get(StatusFeed.EVENTS + query, headers)));
                assertThat(stream).as("%s (anonymous %s): the status stream answers as the subscriptions API", name, anonymous)
                        .isEqualTo(api).isEqualTo(expected.get(name));
            });
        }
    }

    @Test
    void aViewerGetsSnapshotsHoldsASlotIsNotListedAndEndsWithTheHubOrItsToken() throws Exception {
        MercureProtocol p = protocol(true, true, 2);
        MercureProtocol.Decision sub = decide(p, get(MercureProtocol.PATH + "?topic=" + URLEncoder.encode(BOOK, UTF_8)));
        open((MercureProtocol.Stream) sub);

        MercureProtocol.Decision d = decide(p, get(StatusFeed.EVENTS, "Authorization", "Bearer " + SUBSCRIPTIONS_READER));
        assertThat(d).isInstanceOf(MercureProtocol.Stream.class);
        assertThat(((MercureProtocol.Stream) d).headers()).containsEntry("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0");
        assertThat(status(decide(p, get(MercureProtocol.PATH + "?topic=x")))).as("the viewer holds the last slot").isEqualTo(503);
        assertThat(status(decide(p, get(StatusFeed.EVENTS, "Authorization", "Bearer " + SUBSCRIBE_ALL)))).isEqualTo(503);
        BufferTransport viewer = open((MercureProtocol.Stream) d);

        Map<String, Object> snapshot = awaitSnapshots(viewer, 1).getFirst();
        assertThat(snapshot).as("one subscriber; the viewer is neither a connection nor a subscription")
                .containsEntry("connections", 1).containsEntry("subscriptionCount", 1);
        assertThat(((List<?>) snapshot.get("subscriptions")).getFirst()).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("topic", BOOK);
        assertThat(awaitSnapshots(viewer, 2)).as("and one a period").hasSize(2);

        p.close(); // the hub's close: the viewer gets the shutdown event, and its slot is free again
        viewer.await("event: shutdown");
        viewer.awaitClosed();
        await().atMost(Duration.ofSeconds(10)).until(() -> status(decide(p, get(MercureProtocol.PATH + "?topic=x"))) == 200);

        String soon = tokenUnchecked("{\"exp\":" + (NOW.getEpochSecond() + 1) + ",\"mercure\":{\"subscribe\":[\"*\"]}}");
        BufferTransport expiring = open((MercureProtocol.Stream) decide(protocol(true, true, 2),
                get(StatusFeed.EVENTS, "Authorization", "Bearer " + soon)));
        expiring.awaitClosed(); // its token's exp ends it, as a subscription's
    }

    // ---- in-memory streams

    private SseConnection connection(BufferTransport t) {
        SseConnection c = Sse.open(t);
        toClose.add(c);
        return c;
    }

    /** Opens a stream decision on an in-memory connection, as a server would after writing the head. */
    private BufferTransport open(MercureProtocol.Stream s) {
        BufferTransport t = new BufferTransport();
        s.open(connection(t), Runnable::run);
        return t;
    }

    private static Map<String, Object> json(Map<String, Object> snapshot) throws Exception {
        return JSON.std.mapFrom(StatusFeed.write(snapshot));
    }

    private static final Pattern DATA = Pattern.compile("^data: (.*)$", Pattern.MULTILINE);

    /** The first {@code n} snapshots {@code t} received, once there are that many. */
    private static List<Map<String, Object>> awaitSnapshots(BufferTransport t, int n) throws Exception {
        return t.await(text -> {
            List<Map<String, Object>> snapshots = new ArrayList<>();
            Matcher m = DATA.matcher(text);
            try {
                while (m.find()) {
                    snapshots.add(JSON.std.mapFrom(m.group(1)));
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return snapshots.size() >= n ? snapshots.subList(0, n) : null;
        });
    }
}
