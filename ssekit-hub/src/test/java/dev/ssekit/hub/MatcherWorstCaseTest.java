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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The most a single 1.0 subscription can make the hub compile: a QUERY body of 100 distinct match_urlpattern values
 * of 4,096 bytes each, every one the standard's largest regexp form (repeated segment groups with a prefix). Asserts
 * the answer (a stream: each pattern is valid) and prints the CPU time the decision took on the calling thread (the
 * event loop's share), for RELIABILITY.md. It asserts no time.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MatcherWorstCaseTest {

    static String fill(String head, String unit, int bytes) {
        StringBuilder sb = new StringBuilder(head);
        for (int i = 0;; i++) {
            String next = unit.replace("#", Integer.toString(i));
            if (sb.length() + next.length() > bytes) {
                return sb.toString();
            }
            sb.append(next);
        }
    }

    @Test
    void aHundredWorstPatternsInOneQueryBody() throws Exception {
        try (Broadcaster b = Broadcaster.create()) {
            HubConfig config = Mercure10ProtocolTest.config(HubConfig.Protocol.modern("https://localhost", JwtVerifier.secret(KEY),
                    JwtVerifier.secret(KEY), "https://localhost/.well-known/mercure"), true);
            MercureProtocol p = new MercureProtocol(config, b, new Subscriptions(b, false), new TopicSelectorStore(1000),
                    Scheduler.system(), Clock.systemUTC());
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < SubscribeMatchers.MAX_MATCHERS; i++) {
                String pattern = fill("https://example.com/p" + i, "{/:g#}*", MatcherStore.MAX_BYTES);
                body.append(body.isEmpty() ? "" : "&").append("match_urlpattern=").append(URLEncoder.encode(pattern, StandardCharsets.UTF_8));
            }
            var threads = ManagementFactory.getThreadMXBean();
            long start = threads.getCurrentThreadCpuTime();
            long wall = System.nanoTime();
            MercureProtocol.Decision d = p.handle(Mercure10ProtocolTest.request("QUERY", MercureProtocol.PATH, body.toString()))
                    .toCompletableFuture().get();
            long cpu = threads.getCurrentThreadCpuTime() - start;
            wall = System.nanoTime() - wall;
            assertThat(d).as("100 valid patterns: a stream").isInstanceOf(MercureProtocol.Stream.class);
            ((MercureProtocol.Stream) d).abandon();
            System.out.printf(Locale.ROOT, "query body %d bytes, 100 patterns of %d bytes: decision CPU %.1f ms, wall %.1f ms%n",
                    body.length(), MatcherStore.MAX_BYTES, cpu / 1e6, wall / 1e6);
        }
    }
}
