package dev.ssekit.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The fan-out benchmark's {@code hub} adapter: the Mercure hub, driven through its own protocol. */
final class HubBench {

    private static final String KEY = "ssekit-bench-key-ssekit-bench-key-0123456789";
    private static final int PUBLISHERS = 16;

    private HubBench() {
    }

    static void start(int port, HttpServer control) throws IOException {
        Path data = Files.createTempDirectory("ssekit-bench-hub");
        dev.ssekit.hub.HubMain.main(new String[] {"--listen", "127.0.0.1:" + port, "--publisher-jwt-key", KEY,
            "--data", data.toString(), "--history-events", "1000", "--max-connections", "100000", "--heartbeat", "600",
            "--anonymous", "true"});
        URI hub = URI.create("http://127.0.0.1:" + port + "/.well-known/mercure");
        String token = hs256("{\"mercure\":{\"publish\":[\"bench\"]}}");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        control.createContext("/publish", ex -> {
            String q = ex.getRequestURI().getQuery();
            int n = Integer.parseInt(FanOutServer.param(q, "n"));
            int size = Integer.parseInt(FanOutServer.param(q, "size"));
            String pad = "x".repeat(Math.max(0, size - 20));
            long start = System.nanoTime();
            // PUBLISHERS POSTs in flight at once (as many publishing clients would), each answered before the next
            Semaphore inFlight = new Semaphore(PUBLISHERS);
            AtomicReference<String> failure = new AtomicReference<>();
            try {
                for (int i = 0; i < n && failure.get() == null; i++) {
                    inFlight.acquire();
                    String form = "topic=bench&data=" + String.format("%019d", System.nanoTime()) + "+" + pad;
                    http.sendAsync(HttpRequest.newBuilder(hub).header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString())
                            .whenComplete((r, e) -> {
                                if (e != null || r.statusCode() != 200) {
                                    failure.compareAndSet(null, e != null ? e.toString() : r.statusCode() + " " + r.body());
                                }
                                inFlight.release();
                            });
                }
                inFlight.acquire(PUBLISHERS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            if (failure.get() != null) {
                throw new IOException("a publish failed: " + failure.get());
            }
            long took = System.nanoTime() - start;
            FanOutServer.reply(ex, "published " + n + " in " + took / 1_000_000 + " ms (HTTP POSTs to the hub, "
                    + PUBLISHERS + " in flight)\n");
        });
        control.createContext("/stats", ex -> {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            String metrics;
            try {
                metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            FanOutServer.reply(ex, "heap " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
                    + " subscribers " + value(metrics, "ssekit_connections") + " published " + value(metrics, "ssekit_published_total")
                    + " delivered " + value(metrics, "ssekit_delivered_total") + " queued " + value(metrics, "ssekit_queued_bytes")
                    + " threads " + ManagementFactory.getThreadMXBean().getThreadCount() + "\n");
        });
    }

    private static String value(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).map(l -> l.substring(name.length() + 1)).findFirst().orElse("?");
    }

    /** An HS256 JWS for the benchmark's fixed key (the hub's own minting is internal to it). */
    private static String hs256(String payload) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(UTF_8)) + "."
                + b64.encodeToString(payload.getBytes(UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(KEY.getBytes(UTF_8), "HmacSHA256"));
            return signed + "." + b64.encodeToString(mac.doFinal(signed.getBytes(UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
