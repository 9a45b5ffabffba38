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
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The fan-out benchmark's {@code hub} adapter: the Mercure hub, driven through its own protocol. */
final class HubBench {

    static final String KEY = "ssekit-bench-key-ssekit-bench-key-0123456789";
    private static final int PUBLISHERS = 16;
    /** 503s one event may get before the run fails (each waits its Retry-After, a second from the hub). */
    private static final int MAX_REFUSALS = 60;

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
                    "--heartbeat", "600", "--anonymous", "true", "--metrics-token", METRICS_TOKEN,
                    "--protocol-version-compatibility", "8")); // its tokens and topic= are Mercure 0.x (issue #24)
            if (redis != null) {
                args.addAll(List.of("--redis", redis));
            }
            dev.ssekit.hub.HubMain.main(args.toArray(String[]::new));
        }
        String token = hs256("{\"mercure\":{\"publish\":[\"bench\"]}}");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        control.createContext("/publish", ex -> {
            String q = ex.getRequestURI().getQuery();
            int n = Integer.parseInt(FanOutServer.param(q, "n"));
            int size = Integer.parseInt(FanOutServer.param(q, "size"));
            int rate = q.contains("rate=") ? Integer.parseInt(FanOutServer.param(q, "rate")) : 0;
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
            String failure = publishAll(port, token, n, size, rate, start, refusals);
            if (failure != null) {
                throw new IOException("a publish failed: " + failure);
            }
            long took = System.nanoTime() - start;
            FanOutServer.reply(ex, "published " + n + " in " + took / 1_000_000 + " ms (HTTP POSTs to the hub, "
                    + PUBLISHERS + " in flight; " + refusals + " answered 503 and sent again after its Retry-After)\n");
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
                    metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/metrics"))
                            .header("Authorization", "Bearer " + METRICS_TOKEN).build(),
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

    /**
     * Publishes {@code n} events: {@link #PUBLISHERS} keep-alive connections, each with one POST in
     * flight, written in one write and answered before its next (as that many publishing clients
     * would). Plain HTTP/1.1 on blocking sockets: on these two shared cores the JDK HttpClient's own
     * threads and hand-offs cost the hub's process more than the hub's handling of the POST does.
     * A 503 (the hub's delivery is behind) is sent again after its Retry-After, up to {@link
     * #MAX_REFUSALS} times per event, each counted in {@code refusals}.
     *
     * @return the first failure, or null
     */
    private static String publishAll(int port, String token, int n, int size, int rate, long start,
            java.util.concurrent.atomic.AtomicInteger refusals) throws IOException {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        byte[] head = ("POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ").getBytes(UTF_8);
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < PUBLISHERS; t++) {
            threads.add(Thread.ofVirtual().name("bench-publisher-" + t).start(() -> {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                    s.setTcpNoDelay(true);
                    s.setSoTimeout(60_000);
                    java.io.OutputStream out = s.getOutputStream();
                    java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream());
                    java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
                    for (int i; failure.get() == null && (i = next.getAndIncrement()) < n;) {
                        long stamp = PeerServer.due(start, i, rate);
                        byte[] form = ("topic=bench&data=" + PeerServer.payload(stamp, PeerServer.SEQUENCE.getAndIncrement(), size)
                                .replace(' ', '+')).getBytes(UTF_8);
                        request.reset();
                        request.write(head);
                        request.write((form.length + "\r\n\r\n").getBytes(UTF_8));
                        request.write(form);
                        Response answer;
                        for (int refused = 0;; refused++) {
                            request.writeTo(out);
                            out.flush();
                            answer = readResponse(in);
                            if (answer.status().startsWith("HTTP/1.1 503") && answer.retryAfter() >= 0 && refused < MAX_REFUSALS) {
                                // the hub's delivery is behind: as a publisher should, send it again when told
                                // (a paced event keeps its due time, so the wait counts in its latency)
                                refusals.incrementAndGet();
                                Thread.sleep(answer.retryAfter() * 1000L);
                                continue;
                            }
                            break;
                        }
                        if (!answer.status().startsWith("HTTP/1.1 200")) {
                            failure.compareAndSet(null, answer.status());
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    failure.compareAndSet(null, e.toString());
                } catch (InterruptedException e) {
                    failure.compareAndSet(null, "interrupted");
                }
            }));
        }
        try {
            for (Thread t : threads) {
                t.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return failure.get();
    }

    /** A response's status line and its Retry-After in seconds (-1 without one). */
    private record Response(String status, int retryAfter) {
    }

    /** Reads one response (status line, headers, a Content-Length body). */
    private static Response readResponse(java.io.InputStream in) throws IOException {
        String status = line(in);
        int length = 0;
        int retryAfter = -1;
        for (String h; !(h = line(in)).isEmpty();) {
            if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).trim());
            } else if (h.regionMatches(true, 0, "retry-after:", 0, 12)) {
                retryAfter = Integer.parseInt(h.substring(12).trim());
            }
        }
        in.skipNBytes(length);
        return new Response(status, retryAfter);
    }

    private static String line(java.io.InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n';) {
            if (c == -1) {
                throw new java.io.EOFException("the hub closed the connection");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** The token that reads the hubs' /metrics on their public port (off it without one). */
    static final String METRICS_TOKEN = "bench-metrics-token";

    /**
     * The {@code Authorization} header that reads {@code /metrics} of a hub started with {@code
     * SSEKIT_METRICS_TOKEN} in its environment (the bench scripts set it), or null when unset: a hub from
     * before issue #28 serves them to anyone.
     */
    static String metricsAuthorization() {
        String token = System.getenv("SSEKIT_METRICS_TOKEN");
        return token == null || token.isEmpty() ? null : "Bearer " + token;
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
        return hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload);
    }

    /** An HS256 JWS of the given header and payload for the benchmark's fixed key. */
    static String hs256(String header, String payload) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(header.getBytes(UTF_8)) + "."
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
