package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.lang.management.ManagementFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Locale;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The most a single 1.0 subscription can make the hub compile (issue #24): URL patterns cost about the
 * same per byte whatever their groups, so a subscription's match_urlpattern values total at most {@link
 * SubscribeMatchers#MAX_PATTERN_BYTES} (400 past it, naming the cap; the reference hub's 100 x 4,096 bytes
 * cost 2.3 s), and so do a token's authorization_details (the token is invalid past it). Under the cap:
 * 8 patterns of 4,096 bytes, the standard's largest regexp form (repeated segment groups with a prefix),
 * 64 regexp groups and literal filler, or 100 patterns of 327 bytes: a stream. Prints the CPU time of
 * each decision on the calling thread (an event loop's share) and on the hub's compiler threads, for
 * RELIABILITY.md. It asserts no time.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MatcherWorstCaseTest {

    static String fill(String head, String unit, int bytes) {
        return fill(head, unit, bytes, Integer.MAX_VALUE, "");
    }

    /** {@code head}, then {@code unit} (its {@code #} numbered) at most {@code units} times, then {@code filler} up to {@code bytes}. */
    static String fill(String head, String unit, int bytes, int units, String filler) {
        StringBuilder sb = new StringBuilder(head);
        for (int i = 0; i < units; i++) {
            String next = unit.replace("#", Integer.toString(i));
            if (sb.length() + next.length() > bytes) {
                return sb.toString();
            }
            sb.append(next);
        }
        while (sb.length() + filler.length() <= bytes && !filler.isEmpty()) {
            sb.append(filler);
        }
        return sb.toString();
    }

    /** The QUERY body of {@code n} patterns. */
    static String body(int n, IntFunction<String> pattern) {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < n; i++) {
            body.append(body.isEmpty() ? "" : "&").append("match_urlpattern=").append(URLEncoder.encode(pattern.apply(i), StandardCharsets.UTF_8));
        }
        return body.toString();
    }

    /** The standard's largest regexp form filling {@code bytes}. */
    static String groups(int i, int bytes) {
        return fill("https://example.com/p" + i, "{/:g#}*", bytes);
    }

    /** 64 regexp groups of character classes, then literal bytes up to {@code bytes}. */
    static String regexps(int i, int bytes) {
        return fill("https://example.com/r" + i, "/([a-z0-9_]+|x#)", bytes, 64, "/literal");
    }

    private static MercureProtocol.Decision decide(MercureProtocol p, String label, String body) throws Exception {
        var threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        long compilers = compilerCpu();
        long wall = System.nanoTime();
        MercureProtocol.Decision d = p.handle(Mercure10ProtocolTest.request("QUERY", MercureProtocol.PATH, body)).toCompletableFuture().get();
        long cpu = threads.getCurrentThreadCpuTime() - start;
        wall = System.nanoTime() - wall;
        System.out.printf(Locale.ROOT, "%s: query body %d bytes: CPU on the calling thread %.1f ms, on the compiler threads %.1f ms,"
                + " decision wall %.1f ms%n", label, body.length(), cpu / 1e6, (compilerCpu() - compilers) / 1e6, wall / 1e6);
        return d;
    }

    /** The CPU time of the hub's compiler threads so far (those alive now). */
    static long compilerCpu() {
        var threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (java.lang.management.ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith(MercureProtocol.COMPILER_THREAD)) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    @Test
    void theURLPatternsOfOneSubscriptionAreBoundedByTheirBytes() throws Exception {
        try (Broadcaster b = Broadcaster.create()) {
            HubConfig config = Mercure10ProtocolTest.config(HubConfig.Protocol.modern("https://localhost", JwtVerifier.secret(KEY),
                    JwtVerifier.secret(KEY), "https://localhost/.well-known/mercure"), true);
            MercureProtocol p = new MercureProtocol(config, b, new Subscriptions(b, false), new TopicSelectorStore(1000),
                    Scheduler.system(), Clock.systemUTC());
            try {
                int max = MatcherStore.MAX_BYTES;
                MercureProtocol.Decision refused = decide(p, "100 x 4,096 bytes of {/:g}* (the reference hub's caps)",
                        body(SubscribeMatchers.MAX_MATCHERS, i -> groups(i, max)));
                assertThat(refused).isInstanceOf(MercureProtocol.Reply.class);
                HubResponse r = ((MercureProtocol.Reply) refused).response();
                assertThat(r.status()).isEqualTo(400);
                assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("at most " + SubscribeMatchers.MAX_PATTERN_BYTES + " bytes");

                int full = SubscribeMatchers.MAX_PATTERN_BYTES / max;
                int small = SubscribeMatchers.MAX_PATTERN_BYTES / SubscribeMatchers.MAX_MATCHERS;
                for (var shape : java.util.List.of(
                        java.util.Map.entry(full + " x 4,096 bytes of {/:g}* (~1,000 groups each)", body(full, i -> groups(1000 + i, max))),
                        java.util.Map.entry(full + " x 4,096 bytes, 64 regexp groups each", body(full, i -> regexps(2000 + i, max))),
                        java.util.Map.entry("100 x " + small + " bytes of {/:g}*", body(100, i -> groups(3000 + i, small))))) {
                    MercureProtocol.Decision d = decide(p, shape.getKey(), shape.getValue());
                    assertThat(d).as(shape.getKey() + ": valid patterns within the budget: a stream").isInstanceOf(MercureProtocol.Stream.class);
                    ((MercureProtocol.Stream) d).abandon();
                }
            } finally {
                p.close();
            }
        }
    }

    @Test
    void aTokensURLPatternsAreBoundedByTheirBytesToo() {
        MatcherStore store = new MatcherStore("https://localhost/.well-known/mercure", 1000);
        java.util.List<Object> topics = new java.util.ArrayList<>();
        for (int i = 0; i < AuthorizationDetails.MAX_TOPICS; i++) {
            topics.add(java.util.Map.of("match", groups(i, MatcherStore.MAX_BYTES), "match_type", Matcher.URLPATTERN));
        }
        Object claim = java.util.List.of(java.util.Map.of("type", AuthorizationDetails.TYPE, "actions", java.util.List.of("subscribe"),
                "topics", topics));
        long start = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuthorizationDetails.parse(claim, store))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(SubscribeMatchers.MAX_PATTERN_BYTES + " bytes");
        System.out.printf(Locale.ROOT, "a token's authorization_details of 100 x 4,096-byte URL patterns: refused after %.1f ms CPU%n",
                (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - start) / 1e6);
    }
}
