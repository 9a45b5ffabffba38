package dev.ssekit.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What one publish costs the hub while idle subscribers wait on other topics (issue #14). Runs in
 * its own process against a hub process started as a user would ({@code HubMain}, see
 * {@code bin/bench-hub-index}):
 * <ol>
 * <li>one subscriber on {@value #BENCH_TOPIC} that counts what it receives;</li>
 * <li>SUBSCRIBERS idle subscribers, each on a selector that does not match the benchmark topic:
 * {@code exact} — its own topic {@code https://example.com/other/{i}}; {@code template} — all on
 * the one URI template {@code https://example.com/other/{id}}; {@code templates} — each on its own URI
 * template {@code https://example.com/other/{i}/{id}}; {@code urlpattern} — all on the one
 * URL pattern {@code https://example.com/other/:id} ({@code match_urlpattern}); {@code urlpatterns}
 * — each on its own URL pattern {@code https://example.com/other/{i}/:id};</li>
 * <li>WARMUP updates (at most 20 s of them) POSTed to the benchmark topic and received (not measured), then PUBLISHES
 * more (at most SECONDS), IN_FLIGHT POSTs in flight, each answered before its slot is reused.</li>
 * </ol>
 * Prints publishes/s, POST latency (HDR histogram), the hub process's CPU time (utime + stime from
 * {@code /proc/PID/stat}) per publish over the measured window, how many updates the counting
 * subscriber got, and how many deliveries the hub counted (its {@code /metrics}): the idle
 * subscribers must get none. The last line is tab-separated, for the script.
 *
 * <p>Usage: {@code HubPublishCost HUB_PORT HUB_PID SUBSCRIBERS exact|template|templates|urlpattern|urlpatterns PUBLISHES IN_FLIGHT SECONDS [WARMUP] [CLK_TCK]};
 * the hub's publisher key must be {@link HubBench#KEY} (printed by {@link HubBenchKey}).
 */
public final class HubPublishCost {

    static final String BENCH_TOPIC = "https://example.com/bench";
    private static final int DATA_BYTES = 100;
    /** The warm-up stops after WARMUP updates or this long, whichever comes first. */
    private static final int WARMUP_SECONDS = 20;

    private HubPublishCost() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long pid = Long.parseLong(args[1]);
        int subscribers = Integer.parseInt(args[2]);
        String selector = args[3];
        int publishes = Integer.parseInt(args[4]);
        int inFlight = Integer.parseInt(args[5]);
        int seconds = Integer.parseInt(args[6]);
        int warmup = args.length > 7 ? Integer.parseInt(args[7]) : 2000;
        int clkTck = args.length > 8 ? Integer.parseInt(args[8]) : 100;
        if (!java.util.List.of("exact", "template", "templates", "urlpattern", "urlpatterns").contains(selector)) {
            throw new IllegalArgumentException("selector must be exact, template, templates, urlpattern or urlpatterns: " + selector);
        }
        InetSocketAddress hub = new InetSocketAddress("127.0.0.1", port);
        String mercure = "/.well-known/mercure";

        // the subscribers: reader threads and non-blocking connects from FanOutLoad
        List<FanOutLoad.Worker> workers = new ArrayList<>();
        int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        for (int i = 0; i < threads; i++) {
            FanOutLoad.Worker w = new FanOutLoad.Worker();
            workers.add(w);
            Thread.ofPlatform().daemon().name("subscribers-" + i).start(w);
        }
        // the idle subscribers' source addresses 127.OCTET.0.2 and 127.OCTET.1.2: bin/bench-hub-index gives each run its
        // own OCTET, so no run binds where the last one's closed connections still wait in TIME_WAIT
        int octet = Integer.getInteger("load.octet", 1 + (int) (System.nanoTime() % 250));
        List<FanOutLoad.Conn> conns = new ArrayList<>();
        FanOutLoad.Conn counter = new FanOutLoad.Conn(hub, FanOutLoad.source(octet, 0), subscribe(mercure + "?topic=" + enc(BENCH_TOPIC)), false);
        conns.add(counter);
        workers.get(0).open(counter);
        String template = mercure + "?topic=" + enc("https://example.com/other/{id}");
        long start = System.nanoTime();
        for (int i = 0; i < subscribers; i++) {
            String path = switch (selector) {
                case "exact" -> mercure + "?topic=" + enc("https://example.com/other/" + i);
                case "templates" -> mercure + "?topic=" + enc("https://example.com/other/" + i + "/{id}");
                case "urlpattern" -> mercure + "?match_urlpattern=" + enc("https://example.com/other/:id");
                case "urlpatterns" -> mercure + "?match_urlpattern=" + enc("https://example.com/other/" + i + "/:id");
                default -> template;
            };
            FanOutLoad.Conn c = new FanOutLoad.Conn(hub, FanOutLoad.source(octet, i + 1), subscribe(path), false);
            conns.add(c);
            workers.get(i % workers.size()).open(c);
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos(); // 10,000 connects on 2 loaded cores
        while (sum(workers, t -> t.heads + t.failed) < subscribers + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long heads = sum(workers, t -> t.heads);
        long failed = sum(workers, t -> t.failed);
        Thread.sleep(1000);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI metricsUri = URI.create("http://127.0.0.1:" + port + "/metrics");
        String metrics = get(http, metricsUri);
        long connected = HubBench.value(metrics, "ssekit_connections");
        System.out.printf("subscribers: 1 on %s + %d idle (%s) opened in %.1f s: %d heads, %d failed; the hub counts %d connections%n",
                BENCH_TOPIC, subscribers, selector, (System.nanoTime() - start) / 1e9, heads, failed, connected);
        if (heads != subscribers + 1 || connected != subscribers + 1) {
            String why = workers.stream().map(w -> w.tally.firstFailure).filter(java.util.Objects::nonNull).findFirst().orElse("");
            System.out.println("result\t" + selector + "\t" + subscribers + "\tFAILED: " + heads + " of " + (subscribers + 1)
                    + " subscribers connected (" + failed + " failed, hub counts " + connected + ") " + why);
            return;
        }

        String token = HubBench.hs256("{\"mercure\":{\"publish\":[\"" + BENCH_TOPIC + "\"]}}");
        URI hubUri = URI.create("http://127.0.0.1:" + port + mercure);
        // warm-up: the same path (JIT, the history file's first appends), not measured
        Run warm = publish(http, hubUri, token, warmup, inFlight, WARMUP_SECONDS);
        awaitCount(workers, warm.done(), Duration.ofSeconds(30));
        long warmGot = sum(workers, t -> t.counted);
        if (warm.failure() != null || warmGot != warm.done()) {
            System.out.println("result\t" + selector + "\t" + subscribers + "\tFAILED in warm-up: " + warm.failure() + ", received "
                    + warmGot + " of " + warm.done());
            return;
        }
        System.out.printf("warm-up: %d publishes in %.1f s, all received%n", warm.done(), warm.nanos() / 1e9);

        long deliveredBefore = HubBench.value(get(http, metricsUri), "ssekit_delivered_total");
        long cpuBefore = cpuTicks(pid);
        Run run = publish(http, hubUri, token, publishes, inFlight, seconds);
        long cpuAfter = cpuTicks(pid);
        awaitCount(workers, warmGot + run.done(), Duration.ofSeconds(30));
        long got = sum(workers, t -> t.counted) - warmGot;
        long delivered = HubBench.value(get(http, metricsUri), "ssekit_delivered_total") - deliveredBefore;
        double secs = run.nanos() / 1e9;
        double cpuMs = (cpuAfter - cpuBefore) * 1000.0 / clkTck;
        Histogram h = run.latency();
        System.out.printf("published %d of %d in %.3f s (%d in flight%s): %.0f publishes/s%n", run.done(), publishes, secs, inFlight,
                run.done() < publishes ? ", stopped at " + seconds + " s" : "", run.done() / secs);
        System.out.printf("POST latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", h.getValueAtPercentile(50) / 1e6,
                h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6);
        System.out.printf("hub CPU: %.0f ms for %d publishes = %.1f µs per publish (utime+stime, %d ticks/s)%n", cpuMs, run.done(),
                cpuMs * 1000 / run.done(), clkTck);
        System.out.printf("counting subscriber: %d of %d; hub deliveries in the window: %d%s%n", got, run.done(), delivered,
                run.failure() == null ? "" : "; a POST failed: " + run.failure());
        System.out.printf("result\t%s\t%d\t%d\t%.3f\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%s%n", selector, subscribers, run.done(), secs,
                run.done() / secs, h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, cpuMs * 1000 / run.done(), got,
                delivered, run.failure() == null ? "ok" : "POST failed");
        for (FanOutLoad.Conn c : conns) {
            if (c.channel != null) {
                c.channel.close();
            }
        }
        for (FanOutLoad.Worker w : workers) {
            w.selector.close();
        }
    }

    /** What a publishing run did. */
    record Run(int done, long nanos, Histogram latency, String failure) {
    }

    /** Publishes up to {@code n} updates, {@code inFlight} POSTs at a time, for at most {@code seconds}. */
    private static Run publish(HttpClient http, URI hub, String token, int n, int inFlight, int seconds) throws InterruptedException {
        Semaphore slots = new Semaphore(inFlight);
        Recorder latency = new Recorder(60_000_000_000L, 3);
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong ok = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        int sent = 0;
        while (sent < n && failure.get() == null && System.nanoTime() < deadline) {
            slots.acquire();
            long t0 = System.nanoTime();
            String form = "topic=" + enc(HubPublishCost.BENCH_TOPIC) + "&data="
                    + PeerServer.payload(t0, PeerServer.SEQUENCE.getAndIncrement(), DATA_BYTES).replace(' ', '+');
            HubBench.post(http, hub, token, form).whenComplete((r, e) -> {
                if (e != null || r.statusCode() != 200) {
                    failure.compareAndSet(null, e != null ? e.toString() : r.statusCode() + " " + r.body());
                } else {
                    latency.recordValue(Math.min(60_000_000_000L, System.nanoTime() - t0));
                    ok.incrementAndGet();
                }
                slots.release();
            });
            sent++;
        }
        slots.acquire(inFlight);
        long took = System.nanoTime() - start;
        return new Run((int) ok.get(), took, latency.getIntervalHistogram(), failure.get());
    }

    /** Waits until the counting subscriber has {@code n} updates, or nothing arrived for {@code quiet}. */
    private static void awaitCount(List<FanOutLoad.Worker> workers, long n, Duration quiet) throws InterruptedException {
        long last = System.nanoTime();
        long seen = -1;
        while (true) {
            long now = sum(workers, t -> t.counted);
            if (now >= n) {
                return;
            }
            if (now != seen) {
                seen = now;
                last = System.nanoTime();
            } else if (System.nanoTime() - last > quiet.toNanos()) {
                return;
            }
            Thread.sleep(5);
        }
    }

    /** utime + stime of a process, in clock ticks (fields 14 and 15 of {@code /proc/PID/stat}). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // f[0] is field 3 (state)
    }

    private static byte[] subscribe(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String get(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri);
        String authorization = HubBench.metricsAuthorization();
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static long sum(List<FanOutLoad.Worker> workers, java.util.function.ToLongFunction<FanOutLoad.Tally> f) {
        long s = 0;
        for (FanOutLoad.Worker w : workers) {
            s += f.applyAsLong(w.tally);
        }
        return s;
    }
}
