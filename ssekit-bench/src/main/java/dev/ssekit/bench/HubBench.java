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
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The fan-out benchmark's {@code hub} adapter: the Mercure hub, driven through its own protocol. */
final class HubBench {

    static final String KEY = "ssekit-bench-key-ssekit-bench-key-0123456789";
    private static final int PUBLISHERS = 16;

    private HubBench() {
    }

    /**
     * Starts the hub: one node on {@code port}; or, with {@code redis} set, {@code nodes} nodes on
     * that Redis, on {@code port}, {@code port + 2}, {@code port + 3}, … (PORT + 1 is the control
     * server), publishing through the first.
     */
    static void start(int port, HttpServer control, String redis, int nodes) throws IOException {
        Path data = Files.createTempDirectory("ssekit-bench-hub");
        List<Integer> ports = new java.util.ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            int p = n == 0 ? port : port + 1 + n;
            ports.add(p);
            List<String> args = new java.util.ArrayList<>(List.of("--listen", "127.0.0.1:" + p, "--publisher-jwt-key", KEY,
                    "--data", data.resolve("node" + n).toString(), "--history-events", "1000", "--max-connections", "100000",
                    "--heartbeat", "600", "--anonymous", "true"));
            if (redis != null) {
                args.addAll(List.of("--redis", redis));
            }
            dev.ssekit.hub.HubMain.main(args.toArray(String[]::new));
        }
        URI hub = URI.create("http://127.0.0.1:" + port + "/.well-known/mercure");
        String token = hs256("{\"mercure\":{\"publish\":[\"bench\"]}}");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        control.createContext("/publish", ex -> {
            String q = ex.getRequestURI().getQuery();
            int n = Integer.parseInt(FanOutServer.param(q, "n"));
            int size = Integer.parseInt(FanOutServer.param(q, "size"));
            int rate = q.contains("rate=") ? Integer.parseInt(FanOutServer.param(q, "rate")) : 0;
            long start = System.nanoTime();
            // PUBLISHERS POSTs in flight at once (as many publishing clients would), each answered before the next
            Semaphore inFlight = new Semaphore(PUBLISHERS);
            AtomicReference<String> failure = new AtomicReference<>();
            try {
                for (int i = 0; i < n && failure.get() == null; i++) {
                    long stamp = PeerServer.due(start, i, rate);
                    inFlight.acquire();
                    String form = "topic=bench&data=" + PeerServer.payload(stamp, PeerServer.SEQUENCE.getAndIncrement(), size).replace(' ', '+');
                    post(http, hub, token, form).whenComplete((r, e) -> {
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
            long subscribers = 0;
            long published = 0;
            long delivered = 0;
            long queued = 0;
            for (int p : ports) { // summed over the nodes
                String metrics;
                try {
                    metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/metrics")).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                subscribers += value(metrics, "ssekit_connections");
                published += value(metrics, "ssekit_published_total");
                delivered += value(metrics, "ssekit_delivered_total");
                queued += value(metrics, "ssekit_queued_bytes");
            }
            FanOutServer.reply(ex, "heap " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
                    + " subscribers " + subscribers + " published " + published + " delivered " + delivered + " queued " + queued
                    + " threads " + ManagementFactory.getThreadMXBean().getThreadCount() + " nodes " + ports.size() + " rss " + PeerServer.rss() + "\n");
        });
    }

    /** A gauge or counter from a Prometheus text page. */
    static long value(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new IllegalStateException(name + " missing from /metrics"));
    }

    /** One Mercure publish: the form POSTed with the publisher token; the response when it comes. */
    static java.util.concurrent.CompletableFuture<HttpResponse<String>> post(HttpClient http, URI hub, String token, String form) {
        return http.sendAsync(HttpRequest.newBuilder(hub).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An HS256 JWS for the benchmark's fixed key (the hub's own minting is internal to it). */
    static String hs256(String payload) {
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
