package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #28, item 2, against a hub process at {@code -Xmx256m} (its direct memory the JVM's default,
 * the heap's size): 300 connections each send 960 KiB of a declared 1 MiB publish body and stall.
 * Before the fix they pinned direct memory until it ran out ({@code OutOfDirectMemoryError}) and held
 * it for good. Now publishes without a token are refused on their head, those with one are held up
 * to {@code --max-pending-body-mb} (503 past it) and cut off by the body rate floor; {@code /healthz}
 * and a publish answer throughout and after.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubPartialBodiesTest {

    private static final String KEY = "0123456789abcdef0123456789abcdef-partial";
    private static final int CONNECTIONS = 300;
    private static final int SENT = 960 * 1024;

    @TempDir
    Path data;

    @Test
    void threeHundredPartialBodiesLeaveTheHubServing() throws Exception {
        try (HubProcess hub = HubProcess.start(List.of("-Xmx256m"), data, KEY, "--demo", "false");
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            List<Socket> held = new ArrayList<>();
            try {
                List<Future<String>> sent = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    boolean withToken = i % 2 == 0; // half anonymous (the shape), half with a publisher's token
                    Socket s = new Socket();
                    synchronized (held) {
                        held.add(s);
                    }
                    sent.add(pool.submit(() -> partial(hub, s, withToken ? hub.publisher() : null)));
                }
                List<String> outcomes = new ArrayList<>();
                for (Future<String> f : sent) {
                    outcomes.add(f.get(60, TimeUnit.SECONDS));
                }
                // while the stalled ones hold what the hub let them send
                assertThat(health(http, hub)).isEqualTo(200);
                assertThat(publish(http, hub).statusCode()).isEqualTo(200);
                assertThat(outcomes).as("every connection's outcome").doesNotContain("failed");
                // after the rate floor (1 KiB/s over 5 s) has cut the stalled ones off
                Thread.sleep(11_000);
                assertThat(health(http, hub)).isEqualTo(200);
                assertThat(publish(http, hub).statusCode()).isEqualTo(200);
                String log = java.nio.file.Files.readString(hub.log());
                assertThat(log).doesNotContain("OutOfDirectMemoryError").doesNotContain("OutOfMemoryError");
                assertThat(hub.process().isAlive()).isTrue();
            } finally {
                pool.shutdownNow();
                synchronized (held) {
                    for (Socket s : held) {
                        s.close();
                    }
                }
            }
        }
    }

    /** Sends the head and 960 KiB of the body, then stalls; "sent", "refused" (the hub closed or answered first) or "failed". */
    private static String partial(HubProcess hub, Socket s, String token) {
        try {
            s.connect(hub.address(), 10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST " + hub.url().getPath() + " HTTP/1.1\r\nHost: x\r\n" + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\ntopic=x&data=").getBytes(ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'a');
            for (int n = 0; n < SENT; n += chunk.length) {
                out.write(chunk);
            }
            out.flush();
            return "sent";
        } catch (IOException refused) {
            return "refused";
        } catch (RuntimeException e) {
            return "failed";
        }
    }

    private static int health(HttpClient http, HubProcess hub) throws Exception {
        return http.send(HttpRequest.newBuilder(hub.url().resolve("/healthz")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static HttpResponse<String> publish(HttpClient http, HubProcess hub) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(hub.url().toString())).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + hub.publisher()).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=x&data=" + java.net.URLEncoder.encode("still serving", UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
