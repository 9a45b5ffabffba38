package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's status page in a real browser: the hub runs as a user starts it (its own JVM, demo
 * mode), Chromium opens the status page URL it prints (the demo subscriber token in its fragment),
 * a second page opens subscribers and publishes, and the figures the status page shows must move:
 * connections, publishes and deliveries per second, history, and the subscribers listed. A page
 * with a wrong token shows the hub's refusal. The screenshot is kept in
 * target/browser/hub-status.png. {@code HUB_STATUS_SECONDS} lengthens the traffic before it; the
 * README's docs/status.png is that file after {@code HUB_STATUS_SECONDS=75 ./mvnw -B -ntp -pl
 * ssekit-examples -am verify -Dtest=HubStatusBrowserTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubStatusBrowserTest {

    private static final int SUBSCRIBERS = 3;

    @TempDir
    Path data;

    @Test
    void theStatusPageShowsTheFiguresMoveAndTheActiveSubscriptions() throws Exception {
        Path log = data.resolve("hub.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", data.resolve("history").toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process hub = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Map<String, String> printed = awaitPrinted(hub, log);
            URI status = URI.create(printed.get("status page:"));
            assertThat(status.getPath()).isEqualTo("/status");
            assertThat(status.getFragment()).as("the demo subscriber token, in the fragment").isEqualTo("token=" + printed.get("subscriber token:"));

            Path shot = BrowserScripts.screenshot("hub-status.png");
            String seconds = System.getenv().getOrDefault("HUB_STATUS_SECONDS", "0");
            String out = BrowserScripts.run("hub-status.mjs", status.toString(), printed.get("publisher token:"), shot.toString(),
                    Integer.toString(SUBSCRIBERS), seconds);

            String line = out.lines().filter(l -> l.startsWith("{\"kind\":\"hub-status\"")).findFirst().orElseThrow();
            Map<String, Object> result = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(line);
            assertThat((String) result.get("refused")).as("a wrong token: the hub's answer, shown")
                    .startsWith("refused: 401");
            assertThat((String) result.get("addressBar")).as("the token leaves the address bar").doesNotContain("token");
            Map<?, ?> before = (Map<?, ?>) result.get("before");
            Map<?, ?> after = (Map<?, ?>) result.get("after");
            assertThat(before.get("state")).isEqualTo("live");
            assertThat(number(before, "connections")).as("the viewer is not a connection").isZero();
            assertThat(number(after, "connections")).isEqualTo(SUBSCRIBERS);
            assertThat(number(after, "publishes")).as("publishes/s").isPositive();
            assertThat(number(after, "deliveries")).as("deliveries/s").isPositive();
            assertThat(number(after, "history")).isGreaterThan(number(before, "history"));
            assertThat(number(after, "evictions")).isZero();
            assertThat(number(after, "subscriptionCount")).isEqualTo(SUBSCRIBERS);
            assertThat(((List<?>) after.get("topics")).stream().map(String::valueOf).toList()).containsExactlyInAnyOrder(
                    "https://example.com/status-test/0", "https://example.com/status-test/1", "https://example.com/status-test/2");
            assertThat((List<?>) result.get("failed")).as("publishes refused").isEmpty();
            assertThat(shot).isNotEmptyFile();
        } finally {
            hub.destroy();
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    private static double number(Map<?, ?> figures, String name) {
        Object v = figures.get(name);
        assertThat(v).as("%s shown in %s", name, figures).isInstanceOf(Number.class);
        return ((Number) v).doubleValue();
    }

    /** What the hub printed: its status page URL and demo tokens, within 30 s. */
    private static Map<String, String> awaitPrinted(Process hub, Path log) throws Exception {
        List<String> keys = List.of("status page:", "publisher token:", "subscriber token:");
        Map<String, String> printed;
        try {
            // until it printed them all, or stopped (then its output says why)
            printed = await("the hub's status page and tokens").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                Map<String, String> found = new HashMap<>();
                for (String l : Files.readAllLines(log, UTF_8)) {
                    for (String key : keys) {
                        if (l.startsWith(key)) {
                            found.put(key, l.substring(key.length()).trim());
                        }
                    }
                }
                return found;
            }, found -> found.size() == keys.size() || !hub.isAlive());
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            printed = Map.of();
        }
        if (printed.size() == keys.size()) {
            return printed;
        }
        throw new AssertionError("the hub printed no status page and tokens; its output: " + Files.readString(log));
    }
}
