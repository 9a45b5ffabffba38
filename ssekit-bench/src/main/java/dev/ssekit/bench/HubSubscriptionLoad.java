package dev.ssekit.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Issue #28's subscription-event load against a running hub (a measurement, not a test): CONNECTIONS
 * anonymous subscribers, each with TEMPLATES distinct selectors of 10 expressions, open at once and
 * later leave at once; meanwhile {@code /healthz} and a publish (a token of {@link HubBench#KEY} for
 * topic {@code bench}) are timed every 100 ms. Prints the latencies (median, max) before (the hub
 * warming up), while opening, while open, while closing, and the hub's RSS from {@code /proc}.
 * MODE {@code templates}: a hub in compatibility mode 8, 0.x {@code topic=} URI templates of 10
 * {@code {+x}} expressions and a 0.x publisher token; MODE {@code urlpattern}: a Mercure 1.0 hub
 * trusting issuer {@link #ISSUER} with audience {@link #AUDIENCE}, {@code match_urlpattern=} URL
 * patterns of 10 named groups and a 1.0 access token.
 *
 * <p>Usage: {@code HubSubscriptionLoad HOST:PORT PID [CONNECTIONS=100] [TEMPLATES=48] [MODE=templates]}
 */
public final class HubSubscriptionLoad {

    /** The issuer a 1.0 hub of this load trusts ({@code --issuer}). */
    public static final String ISSUER = "https://bench.invalid";
    /** The audience a 1.0 hub of this load pins ({@code --resource-id}). */
    public static final String AUDIENCE = ISSUER + "/.well-known/mercure";

    private HubSubscriptionLoad() {
    }

    /** One subscriber's query: TEMPLATES distinct selectors of 10 expressions each, in the mode's syntax. */
    static String query(int conn, int templates, boolean urlPattern) {
        StringBuilder q = new StringBuilder();
        for (int t = 0; t < templates; t++) {
            q.append(q.isEmpty() ? "" : "&");
            if (urlPattern) {
                q.append("match_urlpattern=https://example.com/c").append(conn).append('t').append(t);
                for (int e = 0; e < 10; e++) {
                    q.append("/:").append((char) ('a' + e));
                }
            } else {
                q.append("topic={%2Bc").append(conn).append('t').append(t).append('}');
                for (int e = 1; e < 10; e++) {
                    q.append("{%2B").append((char) ('a' + e)).append('}');
                }
            }
        }
        return q.toString();
    }

    /**
     * Runs the load once.
     *
     * @param args {@code HOST:PORT PID [CONNECTIONS] [TEMPLATES]}
     * @throws Exception when the hub cannot be reached
     */
    public static void main(String[] args) throws Exception {
        String[] hostPort = args[0].split(":");
        InetSocketAddress hub = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        long pid = Long.parseLong(args[1]);
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        int templates = args.length > 3 ? Integer.parseInt(args[3]) : 48;
        boolean urlPattern = args.length > 4 && args[4].equals("urlpattern");
        String token = urlPattern
                ? HubBench.hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE
                        + "\",\"exp\":" + (System.currentTimeMillis() / 1000 + 86_400) + ",\"authorization_details\":[{\"type\":"
                        + "\"https://mercure.rocks/authorization-detail\",\"actions\":[\"publish\"],\"topics\":[{\"match\":\"bench\"}]}]}")
                : HubBench.hs256("{\"mercure\":{\"publish\":[\"bench\"]}}");
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            probe("idle (warm-up)", http, hub, token, 20, () -> false);
            List<Socket> open = Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> opening = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int conn = c;
                opening.add(pool.submit(() -> {
                    String q = query(conn, templates, urlPattern);
                    Socket s = new Socket();
                    s.connect(hub, 10_000);
                    s.getOutputStream().write(("GET /.well-known/mercure?" + q + " HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    String status = line(s.getInputStream());
                    if (!status.startsWith("HTTP/1.1 200")) {
                        throw new IOException("subscriber " + conn + ": " + status);
                    }
                    open.add(s);
                    return null;
                }));
            }
            System.out.println("hub " + hub + ", " + connections + " anonymous connections x " + templates
                    + (urlPattern ? " distinct 10-group URL patterns (Mercure 1.0, match_urlpattern)"
                            : " distinct 10-expression URI templates (compatibility mode 8, topic=)"));
            probe("opening", http, hub, token, 20, () -> opening.stream().allMatch(Future::isDone));
            for (Future<?> f : opening) {
                f.get(120, TimeUnit.SECONDS);
            }
            System.out.println("open: " + open.size() + ", hub RSS " + rss(pid) + " MB");
            probe("open", http, hub, token, 20, () -> false);
            synchronized (open) {
                for (Socket s : open) {
                    pool.submit(() -> {
                        s.close();
                        return null;
                    });
                }
            }
            probe("closing", http, hub, token, 20, () -> false);
            System.out.println("after: hub RSS " + rss(pid) + " MB");
        }
    }

    /** Times {@code n} rounds of /healthz and a publish, 100 ms apart, or until {@code done}. */
    private static void probe(String phase, HttpClient http, InetSocketAddress hub, String token, int n,
            java.util.function.BooleanSupplier done) throws Exception {
        List<Long> health = new ArrayList<>();
        List<Long> publish = new ArrayList<>();
        String base = "http://" + hub.getHostString() + ":" + hub.getPort();
        for (int i = 0; i < n && !done.getAsBoolean(); i++) {
            long t0 = System.nanoTime();
            int h = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            health.add((System.nanoTime() - t0) / 1_000_000);
            t0 = System.nanoTime();
            int p = http.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/mercure")).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=bench&data=x")).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
            publish.add((System.nanoTime() - t0) / 1_000_000);
            if (h != 200 || p != 200) {
                System.out.println(phase + ": /healthz " + h + ", publish " + p);
            }
            Thread.sleep(100);
        }
        System.out.println(phase + ": /healthz ms median " + median(health) + " max " + max(health) + "; publish ms median "
                + median(publish) + " max " + max(publish) + " (" + health.size() + " rounds)");
    }

    private static long median(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.isEmpty() ? -1 : s.get(s.size() / 2);
    }

    private static long max(List<Long> v) {
        return v.stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    private static long rss(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        return -1;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n';) {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
