package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.RawHttp;
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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #26, item 1: a node leaving a cluster drains. {@code /readyz} turns 503 at once while
 * {@code /healthz} stays 200, publishes are still accepted, new subscriptions get 503 with
 * Retry-After, and the streams close spread evenly over the drain window, each with a {@code retry:}
 * hint drawn from the window; on SIGTERM the process exits 0 once the last stream closed.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubDrainTest {

    private static final Pattern RETRY = Pattern.compile("(?:^|\n)retry: (\\d+)\n\n$");

    @TempDir
    Path data;

    private static HttpResponse<String> get(HttpClient http, InetSocketAddress hub, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.getPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> publish(HttpClient http, InetSocketAddress hub, String token, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.getPort() + HubHandler.PATH))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The retry hint of a stream's end, checked to be drawn from [0, window]. */
    private static long retryHint(String tail, Duration window) {
        Matcher m = RETRY.matcher(tail);
        assertThat(m.find()).as("the stream ends with a retry hint alone, no event, in %s", tail).isTrue();
        long retry = Long.parseLong(m.group(1));
        assertThat(retry).isBetween(0L, window.toMillis());
        return retry;
    }

    @Test
    void streamsCloseSpreadEvenlyOverTheWindowOnAManualClock() throws Exception {
        int n = 10;
        Duration window = Duration.ofSeconds(10);
        ManualScheduler clock = new ManualScheduler();
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster broadcaster = Broadcaster.create();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024,
                100, 100, false, false, "", Duration.ofSeconds(10), Optional.empty()),
                new ConnectionLifetime.Settings(window, Optional.empty()), broadcaster, clock, Clock.systemUTC());
        String publisher = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", KEY);
        List<RawHttp> streams = new ArrayList<>();
        Map<Integer, Long> endedAt = new ConcurrentHashMap<>(); // stream -> manual clock when its body ended
        Map<Integer, String> bodies = new ConcurrentHashMap<>();
        Thread closing = null;
        long start = clock.read(); // the clock moves only when this test advances it
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int i = 0; i < n; i++) {
                RawHttp s = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=t", "HTTP/1.1");
                assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
                streams.add(s);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> broadcaster.stats().connections() == n);
            assertThat(get(http, hub.address(), "/readyz").statusCode()).as("ready before the drain").isEqualTo(200);
            for (int i = 0; i < n; i++) {
                int index = i;
                RawHttp s = streams.get(i);
                Thread.ofVirtual().start(() -> {
                    try {
                        bodies.put(index, s.readToEnd());
                    } catch (java.io.IOException e) {
                        bodies.put(index, "failed: " + e);
                    }
                    endedAt.put(index, clock.read());
                });
            }
            closing = Thread.ofPlatform().name("closing").start(hub::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> get(http, hub.address(), "/readyz").statusCode() == 503);
            assertThat(get(http, hub.address(), "/healthz").statusCode()).as("liveness is not readiness").isEqualTo(200);
            HttpResponse<String> refused = get(http, hub.address(), HubHandler.PATH + "?topic=t");
            assertThat(refused.statusCode()).as("a new subscription while draining").isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(publish(http, hub.address(), publisher, "topic=t&data=during-drain").statusCode())
                    .as("publishes are still accepted").isEqualTo(200);
            // stream i closes at window * i / n: one a second here, the first at once
            for (int k = 1; k <= n; k++) {
                int closed = k;
                await().atMost(Duration.ofSeconds(10)).until(() -> endedAt.size() >= closed);
                assertThat(endedAt).as("streams closed after %d s of the drain", k - 1).hasSize(k);
                clock.advance(Duration.ofSeconds(1));
            }
            closing.join(Duration.ofSeconds(15));
            assertThat(closing.isAlive()).as("close() returns once the last stream closed").isFalse();
        } finally {
            if (closing == null) {
                hub.close();
            }
            for (RawHttp s : streams) {
                s.close();
            }
        }
        List<Long> seconds = endedAt.values().stream().map(t -> (t - start) / 1_000_000_000L).sorted().toList();
        assertThat(seconds).as("one stream closed each second of the window").containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        List<Long> hints = new ArrayList<>();
        for (String body : bodies.values()) {
            hints.add(retryHint(body, window));
        }
        assertThat(Set.copyOf(hints)).as("retry hints jittered across the window").hasSizeGreaterThan(1);
    }

    @Test
    void sigtermDrainsOverTheWindowAndExitsZero() throws Exception {
        int n = 6;
        String secret = "a-fixed-development-key-of-at-least-32-bytes";
        // SSEKIT_DRAIN: a hub that does not know it ignores it (and closes every stream at once)
        HubProcess hub = HubProcess.start(data, secret, Map.of("SSEKIT_DRAIN", "3"));
        List<RawHttp> streams = new ArrayList<>();
        Map<Integer, Long> endedAt = new ConcurrentHashMap<>();
        Map<Integer, String> bodies = new ConcurrentHashMap<>();
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int i = 0; i < n; i++) {
                RawHttp s = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=t", "HTTP/1.1");
                assertThat(s.statusLine).isEqualTo("HTTP/1.1 200 OK");
                streams.add(s);
            }
            assertThat(get(http, hub.address(), "/readyz").statusCode()).as("ready before SIGTERM").isEqualTo(200);
            for (int i = 0; i < n; i++) {
                int index = i;
                RawHttp s = streams.get(i);
                Thread.ofVirtual().start(() -> {
                    try {
                        bodies.put(index, s.readToEnd());
                    } catch (java.io.IOException e) {
                        bodies.put(index, "failed: " + e);
                    }
                    endedAt.put(index, System.nanoTime());
                });
            }
            long sigterm = System.nanoTime();
            hub.process().destroy();
            await().atMost(Duration.ofSeconds(5)).until(() -> get(http, hub.address(), "/readyz").statusCode() == 503);
            assertThat(publish(http, hub.address(), hub.publisher(), "topic=t&data=during-drain").statusCode())
                    .as("publishes are still accepted while draining").isEqualTo(200);
            assertThat(hub.process().waitFor(20, TimeUnit.SECONDS)).as("the hub exits after its drain").isTrue();
            assertThat(hub.process().exitValue()).as("exit status after a drain; output: %s", Files.readString(hub.log()))
                    .isEqualTo(0);
            await().atMost(Duration.ofSeconds(5)).until(() -> endedAt.size() == n);
            long first = endedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long last = endedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            // six streams over 3 s close at 0, 0.5, ... 2.5 s: not at one moment
            assertThat(Duration.ofNanos(last - first)).as("from the first stream's end to the last's")
                    .isGreaterThan(Duration.ofMillis(1500));
            assertThat(Duration.ofNanos(last - sigterm)).as("the last stream closed within the window (and a margin)")
                    .isLessThan(Duration.ofSeconds(3 + 5));
            for (String body : bodies.values()) {
                retryHint(body, Duration.ofSeconds(3));
            }
        } finally {
            hub.close();
            for (RawHttp s : streams) {
                s.close();
            }
        }
    }
}
