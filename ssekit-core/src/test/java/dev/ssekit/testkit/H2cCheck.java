package dev.ssekit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * SSE over HTTP/2 cleartext: {@code java.net.http} in HTTP/2 mode upgrades the first request
 * ({@code Upgrade: h2c}) and then opens the other streams on the same connection. Checks that
 * {@code streams} concurrent event streams all speak HTTP/2, all get every broadcast event, and
 * share one TCP connection (counted with {@code ss}).
 */
public final class H2cCheck {

    private H2cCheck() {
    }

    /**
     * Runs the check.
     *
     * @param uri an SSE endpoint whose handler subscribes each connection to topic {@code h2}
     * @param hub the broadcaster that endpoint uses
     * @param streams how many concurrent streams
     * @throws Exception on failure
     */
    public static void run(URI uri, Broadcaster hub, int streams) throws Exception {
        run(uri, hub, streams, null);
    }

    /**
     * Runs the check over HTTPS, where HTTP/2 is chosen by ALPN instead of an upgrade.
     *
     * @param uri an {@code https} SSE endpoint whose handler subscribes each connection to topic {@code h2}
     * @param hub the broadcaster that endpoint uses
     * @param streams how many concurrent streams
     * @param tls a client context trusting the server's certificate, or null for cleartext
     * @throws Exception on failure
     */
    public static void run(URI uri, Broadcaster hub, int streams, javax.net.ssl.SSLContext tls) throws Exception {
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2);
        if (tls != null) {
            builder.sslContext(tls);
        }
        try (HttpClient client = builder.build()) {
            HttpRequest request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").build();
            List<HttpResponse<InputStream>> responses = new ArrayList<>();
            // the first request upgrades the connection; the others become streams on it
            responses.add(client.send(request, HttpResponse.BodyHandlers.ofInputStream()));
            List<CompletableFuture<HttpResponse<InputStream>>> rest = new ArrayList<>();
            for (int i = 1; i < streams; i++) {
                rest.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()));
            }
            for (CompletableFuture<HttpResponse<InputStream>> f : rest) {
                responses.add(f.get(30, TimeUnit.SECONDS));
            }
            for (HttpResponse<InputStream> r : responses) {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(r.headers().firstValue("content-type").orElse("").replace(" ", ""))
                        .isEqualToIgnoringCase("text/event-stream;charset=utf-8");
            }
            await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(
                    () -> assertThat(hub.stats().connections()).as("subscribed streams").isEqualTo(streams));
            assertThat(establishedConnections(uri.getPort())).as("TCP connections to the server").isEqualTo(1);

            for (int i = 0; i < 3; i++) {
                hub.publish(SseMessage.of("h2 event " + i + " ✓"), "h2");
            }
            List<CompletableFuture<List<String>>> reads = new ArrayList<>();
            for (HttpResponse<InputStream> r : responses) {
                reads.add(CompletableFuture.supplyAsync(() -> readEvents(r.body(), 3), command -> Thread.ofVirtual().start(command)));
            }
            for (CompletableFuture<List<String>> read : reads) {
                assertThat(read.get(30, TimeUnit.SECONDS)).containsExactly("h2 event 0 ✓", "h2 event 1 ✓", "h2 event 2 ✓");
            }
            for (HttpResponse<InputStream> r : responses) {
                r.body().close();
            }
        }
    }

    private static List<String> readEvents(InputStream in, int n) {
        List<String> data = new ArrayList<>();
        List<SseEvent> events = new ArrayList<>();
        dev.ssekit.codec.SseParser parser = dev.ssekit.codec.SseParser.create(events::add);
        byte[] buf = new byte[4096];
        try {
            while (events.size() < n) {
                int k = in.read(buf);
                if (k < 0) {
                    break;
                }
                parser.feed(buf, 0, k);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        events.forEach(e -> data.add(e.data()));
        return data;
    }

    /**
     * Established TCP connections whose local end is 127.0.0.1:{@code port} (the server's side), by
     * {@code ss}. The address matters: other loopback addresses may use the same port number for
     * their own client sockets (a load generator bound to 127.x.y.z, for instance).
     *
     * @param port the server's port
     * @return how many
     * @throws IOException if {@code ss} cannot run
     * @throws InterruptedException if interrupted while waiting for it
     */
    public static long establishedConnections(int port) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ss", "-Htn", "state", "established", "( sport = :" + port + " )").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length >= 4)
                .filter(f -> f[2].equals("127.0.0.1:" + port) || f[2].equals("[::ffff:127.0.0.1]:" + port)).count();
    }
}
