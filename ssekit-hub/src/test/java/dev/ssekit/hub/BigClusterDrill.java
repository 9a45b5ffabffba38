package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.hub.ClusterDrill.Publisher;
import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The big drill of issue #26 (item 5), {@code bin/cluster-drill}, not a CI test: one redis-server,
 * three hub processes behind HAProxy, {@code SUBSCRIBERS} EventSources spread over {@code CLIENTS}
 * client JVMs (a process may open 20,000 files here; HAProxy holds two descriptors per stream), a
 * publisher at {@code RATE} events/s through HAProxy; after a steady phase each node in turn gets
 * SIGTERM (its drain) and is started again. Prints lost, duplicated and out-of-order events, the
 * peak reconnects per second of each restart, and the p50/p99 delivery latency of each restart
 * against steady state. Every wait is bounded; it stops everything it started and exits by itself.
 *
 * <p>{@code main(SUBSCRIBERS, CLIENTS, RATE, DRAIN_SECONDS, WORKDIR)}; a client JVM runs {@code
 * main("client", HUB_URL, COUNT, WORKDIR, INDEX)}.
 */
final class BigClusterDrill {

    private BigClusterDrill() {
    }

    /** One subscriber in a client JVM: the event numbers it got, their latency (µs), its stream opens (epoch µs). */
    private static final class Sub {
        int[] seq = new int[1024];
        int[] latency = new int[1024];
        int n;
        final ConcurrentLinkedQueue<Long> opens = new ConcurrentLinkedQueue<>();

        synchronized void add(int s, long latencyMicros) {
            if (n == seq.length) {
                seq = Arrays.copyOf(seq, n * 2);
                latency = Arrays.copyOf(latency, n * 2);
            }
            seq[n] = s;
            latency[n++] = (int) Math.min(Integer.MAX_VALUE, latencyMicros);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("client")) {
            client(URI.create(args[1]), Integer.parseInt(args[2]), Path.of(args[3]), Integer.parseInt(args[4]));
        } else {
            drill(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Path.of(args[4]));
        }
    }

    private static void log(String line) {
        System.out.println(java.time.LocalTime.now().withNano(0) + " " + line);
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static void drill(int subscribers, int clients, int rate, int drain, Path work) throws Exception {
        log("cluster drill: " + subscribers + " subscribers in " + clients + " client JVMs, 3 nodes, drain " + drain + " s, "
                + rate + " events/s; load average " + load());
        List<HubProcess> nodes = new ArrayList<>();
        List<Process> clientProcesses = new ArrayList<>();
        Process haproxy = null;
        Map<String, String> env = Map.of("SSEKIT_DRAIN", Integer.toString(drain));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        try (RedisServer redis = RedisServer.start(Files.createDirectories(work.resolve("redis")))) {
            List<Integer> ports = List.of(ClusterDrill.freePort(), ClusterDrill.freePort(), ClusterDrill.freePort());
            for (int i = 0; i < 3; i++) {
                nodes.add(ClusterDrill.node(work, i, ports.get(i), env, "--redis", redis.uri()));
            }
            int front = ClusterDrill.freePort();
            haproxy = ClusterDrill.haproxy(work, front, ports, 9000, ClusterDrill.freePort());
            URI hub = URI.create("http://127.0.0.1:" + front + HubHandler.PATH);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            for (int c = 0; c < clients; c++) {
                int count = subscribers / clients + (c < subscribers % clients ? 1 : 0);
                clientProcesses.add(new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                        BigClusterDrill.class.getName(), "client", hub.toString(), Integer.toString(count), work.toString(),
                        Integer.toString(c)).redirectErrorStream(true).redirectOutput(work.resolve("client" + c + ".log").toFile())
                        .start());
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            for (int c = 0; c < clients; c++) {
                while (!Files.exists(work.resolve("connected" + c))) {
                    if (System.nanoTime() > deadline || !clientProcesses.get(c).isAlive()) {
                        throw new IllegalStateException("client " + c + " did not connect its subscribers; see " + work);
                    }
                    Thread.sleep(200);
                }
            }
            log("every subscriber connected; load average " + load());
            List<ClusterDrill.Phase> phases = new ArrayList<>();
            Publisher publisher = new Publisher(http, hub, rate, 1_000_000);
            try (publisher) {
                long steady = ClusterDrill.nowMicros();
                Thread.sleep(20_000);
                phases.add(new ClusterDrill.Phase("steady state", steady, ClusterDrill.nowMicros()));
                for (int i = 0; i < 3; i++) {
                    long from = ClusterDrill.nowMicros();
                    HubProcess leaving = nodes.get(i);
                    leaving.process().destroy();
                    if (!leaving.process().waitFor(drain + 30, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("node " + i + " did not exit after its drain");
                    }
                    log("node " + i + " drained and exited " + leaving.process().exitValue() + " after "
                            + (ClusterDrill.nowMicros() - from) / 1000 + " ms; load average " + load());
                    nodes.set(i, ClusterDrill.node(work, i, ports.get(i), env, "--redis", redis.uri()));
                    ClusterDrill.awaitReady(http, ports.get(i));
                    Thread.sleep(drain * 1000L); // the reconnects settle
                    phases.add(new ClusterDrill.Phase("restart of node " + i, from, ClusterDrill.nowMicros()));
                }
            }
            List<String> acknowledged = publisher.acknowledged();
            log(publisher.sent() + " publishes, " + acknowledged.size() + " acknowledged, " + publisher.refused().size() + " refused "
                    + publisher.refused());
            StringBuilder done = new StringBuilder();
            for (ClusterDrill.Phase p : phases) {
                done.append("phase ").append(p.fromMicros()).append(' ').append(p.toMicros()).append(' ').append(p.name()).append('\n');
            }
            for (String a : acknowledged) {
                done.append(a.substring(1).replace('-', ' ')).append('\n'); // "n sentMicros"
            }
            Path tmp = work.resolve("done.tmp");
            Files.writeString(tmp, done, UTF_8);
            Files.move(tmp, work.resolve("done"), StandardCopyOption.ATOMIC_MOVE);
            report(clients, clientProcesses, work, phases);
        } finally {
            clientProcesses.forEach(Process::destroyForcibly);
            http.shutdownNow();
            nodes.forEach(n -> n.process().destroy());
            nodes.forEach(HubProcess::close);
            ClusterDrill.kill(haproxy);
            log("load average at the end " + load());
        }
    }

    /** Waits for each client's result file and prints the totals. */
    private static void report(int clients, List<Process> processes, Path work, List<ClusterDrill.Phase> phases) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        long lost = 0;
        long duplicated = 0;
        long outOfOrder = 0;
        long subscribers = 0;
        List<Long> opens = new ArrayList<>();
        Map<String, TreeMap<Long, Long>> histograms = new HashMap<>(); // phase -> latency ms -> count
        for (int c = 0; c < clients; c++) {
            Path result = work.resolve("result" + c);
            while (!Files.exists(result)) {
                if (System.nanoTime() > deadline || !processes.get(c).isAlive() && !Files.exists(result)) {
                    throw new IllegalStateException("client " + c + " gave no result; see " + work);
                }
                Thread.sleep(500);
            }
            for (String line : Files.readAllLines(result, UTF_8)) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "totals" -> {
                        subscribers += Long.parseLong(f[1]);
                        lost += Long.parseLong(f[2]);
                        duplicated += Long.parseLong(f[3]);
                        outOfOrder += Long.parseLong(f[4]);
                    }
                    case "open" -> opens.add(Long.parseLong(f[1]));
                    case "latency" -> histograms.computeIfAbsent(line.substring(line.indexOf('|') + 1), k -> new TreeMap<>())
                            .merge(Long.parseLong(f[1]), Long.parseLong(f[2]), Long::sum);
                    default -> {
                    }
                }
            }
        }
        log("RESULT: " + subscribers + " subscribers: lost " + lost + ", duplicated " + duplicated + ", out of order " + outOfOrder
                + " (subscriber-event pairs)");
        for (ClusterDrill.Phase p : phases) {
            List<Long> inPhase = opens.stream().filter(t -> t >= p.fromMicros() && t < p.toMicros()).map(t -> t * 1000).toList();
            TreeMap<Long, Long> h = histograms.getOrDefault(p.name(), new TreeMap<>());
            long total = h.values().stream().mapToLong(Long::longValue).sum();
            log(String.format("RESULT: %-16s %5d stream opens, peak %4d/s; %9d deliveries, latency p50 %6d ms, p99 %6d ms, max %6d ms",
                    p.name(), inPhase.size(), ClusterDrill.peakPerSecond(inPhase), total, quantile(h, total, 0.5),
                    quantile(h, total, 0.99), h.isEmpty() ? 0 : h.lastKey()));
        }
    }

    private static long quantile(TreeMap<Long, Long> h, long total, double q) {
        long wanted = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (Map.Entry<Long, Long> e : h.entrySet()) {
            seen += e.getValue();
            if (seen >= wanted) {
                return e.getKey();
            }
        }
        return 0;
    }

    /** A client JVM: opens COUNT subscribers (paced), then waits for "done" and checks them against it. */
    private static void client(URI hub, int count, Path work, int index) throws Exception {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(20); // stops by itself, whatever happens
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        List<Sub> subs = new ArrayList<>();
        List<EventSource> sources = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Sub sub = new Sub();
            subs.add(sub);
            EventSource source = EventSource.builder(URI.create(hub + "?topic=drill")).httpClient(http).build();
            sources.add(source);
            source.start(new EventSourceListener() {
                @Override
                public void onOpen(HttpResponse.ResponseInfo response) {
                    sub.opens.add(ClusterDrill.nowMicros());
                }

                @Override
                public void onEvent(SseEvent event) {
                    if (event.type().equals("message")) {
                        String d = event.data();
                        sub.add(Integer.parseInt(d.substring(1, d.indexOf('-'))), ClusterDrill.nowMicros() - ClusterDrill.sentMicros(d));
                    }
                }

                @Override
                public void onClosed(Optional<StreamException> failure) {
                }
            });
            if (i % 100 == 99) {
                Thread.sleep(100); // about 1,000 new streams a second
            }
        }
        while (subs.stream().anyMatch(s -> s.opens.isEmpty())) {
            if (System.nanoTime() > end) {
                System.exit(1);
            }
            Thread.sleep(200);
        }
        Files.writeString(work.resolve("connected" + index), "");
        System.out.println("connected " + count);
        Path donePath = work.resolve("done");
        while (!Files.exists(donePath)) {
            if (System.nanoTime() > end) {
                System.exit(1);
            }
            Thread.sleep(200);
        }
        List<long[]> phaseSpans = new ArrayList<>();
        List<String> phaseNames = new ArrayList<>();
        List<Integer> acked = new ArrayList<>();
        Map<Integer, Long> sentAt = new HashMap<>();
        for (String line : Files.readAllLines(donePath, UTF_8)) {
            if (line.startsWith("phase ")) {
                String[] f = line.split(" ", 4);
                phaseSpans.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                phaseNames.add(f[3]);
            } else {
                String[] f = line.split(" ");
                acked.add(Integer.parseInt(f[0]));
                sentAt.put(Integer.parseInt(f[0]), Long.parseLong(f[1]));
            }
        }
        java.util.Set<Integer> ackedSet = new java.util.HashSet<>(acked);
        int last = acked.isEmpty() ? -1 : acked.get(acked.size() - 1);
        // up to 60 s for the stragglers to catch up with the last acknowledged event
        long catchUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < catchUp && subs.stream().anyMatch(s -> {
            synchronized (s) {
                return java.util.stream.IntStream.range(0, s.n).noneMatch(k -> s.seq[k] == last);
            }
        })) {
            Thread.sleep(200);
        }
        sources.forEach(EventSource::close);
        long lost = 0;
        long duplicated = 0;
        long outOfOrder = 0;
        StringBuilder out = new StringBuilder();
        Map<String, TreeMap<Long, Long>> histograms = new HashMap<>();
        for (Sub s : subs) {
            synchronized (s) {
                java.util.Set<Integer> seen = new java.util.HashSet<>();
                int previous = -1;
                for (int k = 0; k < s.n; k++) {
                    if (!seen.add(s.seq[k])) {
                        duplicated++;
                    }
                    if (ackedSet.contains(s.seq[k])) {
                        if (s.seq[k] < previous) {
                            outOfOrder++;
                        }
                        previous = Math.max(previous, s.seq[k]);
                    }
                }
                for (int a : acked) {
                    if (!seen.contains(a)) {
                        lost++;
                    }
                }
            }
            s.opens.stream().skip(1).forEach(t -> out.append("open ").append(t).append('\n'));
        }
        // latency per phase: an event belongs to the phase its send time falls in; events sent before a
        // subscriber's first stream opened are not counted (the subscriber was not there yet)
        for (Sub s : subs) {
            List<Long> opens = List.copyOf(s.opens);
            long firstOpen = opens.isEmpty() ? 0 : opens.get(0);
            synchronized (s) {
                for (int k = 0; k < s.n; k++) {
                    if (!ackedSet.contains(s.seq[k])) {
                        continue;
                    }
                    long sent = sentAt.get(s.seq[k]);
                    if (sent < firstOpen) {
                        continue;
                    }
                    for (int p = 0; p < phaseSpans.size(); p++) {
                        if (sent >= phaseSpans.get(p)[0] && sent < phaseSpans.get(p)[1]) {
                            histograms.computeIfAbsent(phaseNames.get(p), x -> new TreeMap<>()).merge(s.latency[k] / 1000L, 1L, Long::sum);
                        }
                    }
                }
            }
        }
        histograms.forEach((phase, h) -> h.forEach((ms, c) -> out.append("latency ").append(ms).append(' ').append(c).append(" |")
                .append(phase).append('\n')));
        out.append("totals ").append(subs.size()).append(' ').append(lost).append(' ').append(duplicated).append(' ')
                .append(outOfOrder).append('\n');
        Path tmp = work.resolve("result" + index + ".tmp");
        Files.writeString(tmp, out, UTF_8);
        Files.move(tmp, work.resolve("result" + index), StandardCopyOption.ATOMIC_MOVE);
        http.shutdownNow();
        System.exit(0);
    }
}
