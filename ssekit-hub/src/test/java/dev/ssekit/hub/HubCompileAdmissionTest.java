package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The review of issue #24's compile pool, over sockets against a real hub: what a subscription costs
 * the hub's subscription compiler before it is refused or after its client left. Figures from the
 * hub's own {@code /metrics} ({@code ssekit_hub_matcher_compiles_total}, {@code
 * ssekit_hub_compile_pending_bytes}, {@code ssekit_hub_compiles_cancelled_total}). Asserts no
 * wall-clock speed.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubCompileAdmissionTest {

    private static final String METRICS_TOKEN = "compile-metrics";
    /** A pattern of exactly {@link MatcherStore#MAX_BYTES}: the bytes a subscription costs are multiples of it. */
    private static final int P = MatcherStore.MAX_BYTES;

    /**
     * Subscriptions of 8 patterns of 4,096 bytes sent before the one observed: three rounds of the hub's
     * compiler threads (half the processors) and three more, so the observed one is still queued when the
     * test acts (one compiles in about 0.2 s, more on a loaded machine); at most 15, within the budget.
     */
    private static final int AHEAD = Math.min(15, 3 * Math.max(1, Runtime.getRuntime().availableProcessors() / 2) + 3);
    private HubOverSockets hub;

    @AfterEach
    void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    private void startHub(boolean anonymous, ConnectionLifetime.Settings lifetime) {
        hub = HubOverSockets.forQueries(anonymous, false,
                c -> c.withLimits(HubConfig.Limits.DEFAULT.withMetrics(Optional.empty(), Optional.of(METRICS_TOKEN))), lifetime);
    }

    /** A URL pattern of exactly {@code bytes} (the standard's largest regexp form, then literal filler), distinct by {@code i}. */
    private static String pattern(int i, int bytes) {
        String p = MatcherWorstCaseTest.groups(i, bytes);
        return p + "x".repeat(bytes - p.length());
    }

    /** Sends a QUERY subscription with {@code n} distinct patterns of {@code bytes} each (seed {@code seed}). */
    private Socket subscribe(int seed, int n, int bytes, String headers) throws Exception {
        return hub.query(headers, MatcherWorstCaseTest.body(n, i -> pattern(seed * 1000 + i, bytes)));
    }

    /** One figure of the hub's {@code /metrics}, read over a socket of its own. */
    private long metric(String name) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(hub.hub.address(), 5000);
            s.setSoTimeout(10_000);
            HubSockets.send(s, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + METRICS_TOKEN
                    + "\r\nConnection: close\r\n\r\n");
            String text = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                if (line.startsWith(name + " ")) {
                    return Long.parseLong(line.substring(name.length() + 1).strip());
                }
            }
            throw new AssertionError("no " + name + " in /metrics: " + text);
        }
    }

    /**
     * Item 1 of the review: with {@code --anonymous false} a subscription without a token, or with one
     * that does not verify, is refused with RFC 6750's answer before any of its selectors is compiled:
     * 100 distinct URL patterns (the per-subscription budget) cost the hub no compile.
     */
    @Test
    void tokenlessAndInvalidTokenSubscriptionsCompileNothingBeforeTheir401() throws Exception {
        startHub(false, ConnectionLifetime.Settings.NONE);
        long before = metric("ssekit_hub_matcher_compiles_total");

        Socket none = subscribe(1, 100, 327, "");
        String head = HubSockets.response(none);
        assertThat(head).startsWith("HTTP/1.1 401");
        assertThat(head).containsPattern("(?i)WWW-Authenticate: Bearer(?![^\\r\\n]*error=)");

        String forged = Tokens.accessToken("https://localhost", "https://localhost/.well-known/mercure", "subscribe",
                java.time.Instant.now(), Duration.ofHours(1), "not the hub's key, but 32 bytes long".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Socket invalid = subscribe(2, 100, 327, "Authorization: Bearer " + forged + "\r\n");
        head = HubSockets.response(invalid);
        assertThat(head).startsWith("HTTP/1.1 401");
        assertThat(head).containsPattern("(?i)WWW-Authenticate: Bearer[^\\r\\n]*error=\"invalid_token\"");

        assertThat(metric("ssekit_hub_matcher_compiles_total") - before)
                .as("URL patterns compiled for two refused subscriptions of 100 patterns each").isZero();
    }

    /**
     * Item 2 of the review: a subscription queued behind others for the compiler whose client closes
     * its connection is dropped before its compile starts: its pending bytes come back at once (the
     * pending total, a sum of 8-pattern subscriptions, no longer holds its 7 patterns' worth) and none
     * of its patterns is compiled.
     */
    @Test
    void aQueuedSubscriptionWhoseClientLeftIsNeverCompiledAndFreesItsBudget() throws Exception {
        startHub(true, ConnectionLifetime.Settings.NONE);
        int ahead = AHEAD; // with the one of 7 patterns: within the 512 KiB budget
        long full = 8L * P;
        long queued = 7L * P;
        List<Socket> first = new ArrayList<>();
        for (int k = 0; k < ahead; k++) {
            first.add(subscribe(k, 8, P, ""));
        }
        Socket leaving = subscribe(99, 7, P, "");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> metric("ssekit_hub_compile_pending_bytes") % full == queued);
        leaving.close();

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(() -> metric("ssekit_hub_compiles_cancelled_total") == 1);
        assertThat(metric("ssekit_hub_compile_pending_bytes") % full).as("pending bytes once the client left: its 7 patterns"
                + " no longer held").isZero();

        for (Socket s : first) {
            assertThat(HubOverSockets.statusLine(s)).isEqualTo("HTTP/1.1 200 OK");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> metric("ssekit_hub_compile_pending_bytes") == 0);
        assertThat(metric("ssekit_hub_matcher_compiles_total")).as("URL patterns compiled: those of the %d subscriptions that"
                + " stayed, none of the one that left", ahead).isEqualTo(ahead * 8L);
        assertThat(metric("ssekit_hub_compiles_cancelled_total")).isEqualTo(1);
    }

    /**
     * Item 3 of the review: a subscription queued for the compiler when the drain starts is answered
     * as a new subscription during a drain is (503 with {@code Retry-After}), not with a stream ended
     * at once.
     */
    @Test
    void aSubscriptionCompiledAfterTheDrainStartedIsRefusedWith503() throws Exception {
        startHub(true, new ConnectionLifetime.Settings(Duration.ofSeconds(10), Optional.empty()));
        int ahead = AHEAD;
        long full = 8L * P;
        for (int k = 0; k < ahead; k++) {
            subscribe(k, 8, P, "");
        }
        Socket last = subscribe(99, 7, P, ""); // 7 patterns: the pending total tells when it is queued
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> metric("ssekit_hub_compile_pending_bytes") % full == 7L * P);
        assertThat(metric("ssekit_hub_matcher_compiles_total")).as("the last subscription is still queued").isLessThan(ahead * 8L);
        hub.hub.drain();

        String head = HubSockets.response(last);
        assertThat(head).as("the subscription decided after the drain started").startsWith("HTTP/1.1 503");
        assertThat(head).containsIgnoringCase("Retry-After:");
    }
}
