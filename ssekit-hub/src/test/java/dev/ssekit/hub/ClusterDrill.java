package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the cluster drills share (issue #26: {@link HubClusterDrillTest}, {@code HubSentinelDrillTest},
 * and the big drill {@code bin/cluster-drill}): hub nodes as processes, HAProxy in front of them
 * with health checks on {@code /readyz}, subscribers ({@code ssekit-client} EventSources that resume
 * with Last-Event-ID), a publisher at a fixed rate whose every event carries the wall-clock time it
 * was sent (so that a receiver in another process can tell its delivery latency), and the checks:
 * every acknowledged event exactly once and in order, and the p99 latency per phase of the drill.
 */
final class ClusterDrill {

    /** The publisher key of every drill node. */
    static final String KEY = "a-fixed-development-key-of-at-least-32-bytes";

    private ClusterDrill() {
    }

    /** A free loopback port. */
    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A hub node on {@code port} with its data in {@code dir/node<i>}, the environment {@code env}, and {@code more} options. */
    static HubProcess node(Path dir, int i, int port, Map<String, String> env, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:" + port));
        args.addAll(List.of(more));
        return HubProcess.start(Files.createDirectories(dir.resolve("node" + i)), KEY, env, args.toArray(String[]::new));
    }

    /**
     * What a drill runs (the setup {@link HubClusterDrillTest} and {@link HubSentinelDrillTest} share):
     * hub node processes with the same environment and options, HAProxy in front of them, an HTTP/1.1
     * client, subscribers through HAProxy. {@link #close()} ends them all: the subscribers, the client,
     * the nodes (SIGTERM to all at once, then each closed), HAProxy. Not thread-safe: one test thread.
     */
    static final class Rig implements AutoCloseable {
        /** Closed in {@link #close()}, after the event sources: HttpClient.close() would wait for every stream to end. */
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
        final List<HubProcess> nodes = new ArrayList<>();
        final List<Integer> ports = new ArrayList<>();
        final List<Subscriber> subscribers = new ArrayList<>();
        private final Path dir;
        private final Map<String, String> env;
        private final String[] options;
        private Process haproxy;
        private int stats;
        private URI hub;

        /**
         * @param dir the nodes' data and HAProxy's files go under it
         * @param env every node's environment
         * @param options every node's options (besides {@code --listen})
         */
        Rig(Path dir, Map<String, String> env, String... options) {
            this.dir = dir;
            this.env = env;
            this.options = options.clone();
        }

        /** Starts {@code n} nodes on free ports, then HAProxy in front of them with {@code maxconn}; returns this. */
        Rig start(int n, int maxconn) throws Exception {
            for (int i = 0; i < n; i++) {
                ports.add(freePort());
            }
            for (int i = 0; i < n; i++) {
                nodes.add(node(dir, i, ports.get(i), env, options));
            }
            int front = freePort();
            stats = freePort();
            haproxy = haproxy(dir, front, ports, maxconn, stats);
            hub = URI.create("http://127.0.0.1:" + front + HubHandler.PATH);
            return this;
        }

        /** The hub URL through HAProxy. */
        URI hub() {
            return hub;
        }

        /** Starts {@code n} subscribers through HAProxy and waits (up to 30 s) until each has connected. */
        void subscribe(int n) {
            for (int i = 0; i < n; i++) {
                subscribers.add(Subscriber.start(http, hub));
            }
            await("every subscriber connected").atMost(Duration.ofSeconds(30))
                    .until(() -> subscribers.stream().allMatch(s -> !s.opens().isEmpty()));
        }

        /**
         * HAProxy's view of node {@code i} now ({@code show stat} on its stats socket): {@code UP},
         * {@code UP 1/2} (one failed check: still in rotation), {@code DOWN}...
         */
        String status(int i) throws java.io.IOException {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", stats), 5000);
                s.setSoTimeout(5000);
                s.getOutputStream().write("show stat\n".getBytes(UTF_8));
                String csv = new String(s.getInputStream().readAllBytes(), UTF_8);
                for (String line : csv.split("\n")) {
                    String[] f = line.split(",", -1);
                    if (f.length > 17 && f[0].equals("hubs") && f[1].equals("n" + i)) {
                        return f[17];
                    }
                }
                throw new AssertionError("no server n" + i + " in HAProxy's stats: " + csv);
            }
        }

        /**
         * SIGTERMs node {@code i} (its drain) and waits (the window plus 15 s) until it exited; returns
         * the span and whether HAProxy still had the node in rotation when it ended.
         */
        Drained drain(int i, Duration window) throws Exception {
            Instant from = Instant.now();
            HubProcess leaving = nodes.get(i);
            leaving.process().destroy(); // SIGTERM: the drain
            assertThat(leaving.process().waitFor(window.toSeconds() + 15, TimeUnit.SECONDS)).as("node %d exits after its drain", i)
                    .isTrue();
            String status = status(i);
            return new Drained(i, from, Instant.now(), status, !status.startsWith("DOWN"));
        }

        /** Starts node {@code i} again (same port, environment and options) and waits until it is ready. */
        void restart(int i) throws Exception {
            nodes.set(i, node(dir, i, ports.get(i), env, options));
            awaitReady(http, ports.get(i));
        }

        @Override
        public void close() {
            subscribers.forEach(s -> s.source().close());
            http.shutdownNow();
            nodes.forEach(n -> n.process().destroy()); // their drains at once
            nodes.forEach(HubProcess::close);
            kill(haproxy);
        }
    }

    /**
     * HAProxy ({@code haproxy -db}, Debian's) listening on {@code port} in front of {@code nodes},
     * checking each node's /readyz every 100 ms, each check with up to 3 s to answer (without {@code timeout
     * check} HAProxy allows a check only {@code inter}, and a node busy with a reconnect storm answers later
     * than 100 ms: every node "down", HAProxy's own 503), down after two failures; waits until it listens.
     *
     * @param maxconn HAProxy's {@code maxconn} (it holds two descriptors per stream)
     */
    static Process haproxy(Path dir, int port, List<Integer> nodes, int maxconn, int stats) throws Exception {
        StringBuilder cfg = new StringBuilder("""
                global
                  maxconn %d
                  stats socket ipv4@127.0.0.1:%d level operator
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 60s
                  timeout server 60s
                  timeout check 3s
                  retries 3
                  option redispatch
                frontend drill
                  bind 127.0.0.1:%d
                  maxconn %d
                  default_backend hubs
                backend hubs
                  balance roundrobin
                  option httpchk GET /readyz
                  http-check expect status 200
                  default-server inter 100ms fastinter 100ms downinter 100ms rise 1 fall 2
                """.formatted(maxconn, stats, port, maxconn));
        for (int i = 0; i < nodes.size(); i++) {
            cfg.append("  server n").append(i).append(" 127.0.0.1:").append(nodes.get(i)).append(" check\n");
        }
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg.toString(), UTF_8);
        Path log = dir.resolve("haproxy.log");
        Process p = new ProcessBuilder("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        await("HAProxy listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return true;
            } catch (java.io.IOException notYet) {
                return !p.isAlive();
            }
        });
        assertThat(p.isAlive()).as("haproxy running; its output: %s", Files.readString(log)).isTrue();
        return p;
    }

    /** Stops a helper process (HAProxy, say) with SIGKILL and waits up to 10 s. */
    static void kill(Process p) {
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (up to 30 s) until {@code port}'s /readyz answers 200. */
    static void awaitReady(HttpClient http, int port) {
        await("node on " + port + " ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    /** The current wall-clock time in microseconds since the epoch (comparable across processes of one machine). */
    static long nowMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    /** The send time (epoch µs) an event's data {@code e<n>-<micros>} carries. */
    static long sentMicros(String data) {
        return Long.parseLong(data.substring(data.indexOf('-') + 1));
    }

    /**
     * One subscriber: the data of its "message" events in order, when each arrived (epoch µs), and
     * when each of its streams opened (nanoTime).
     */
    record Subscriber(EventSource source, List<String> received, List<Long> receivedAt, ConcurrentLinkedQueue<Long> opens) {

        /** Subscribes to topic "drill" at {@code hub} through {@code http}. */
        static Subscriber start(HttpClient http, URI hub) {
            List<String> got = new CopyOnWriteArrayList<>();
            List<Long> at = new CopyOnWriteArrayList<>();
            ConcurrentLinkedQueue<Long> opens = new ConcurrentLinkedQueue<>();
            EventSource source = EventSource.builder(URI.create(hub + "?topic=drill")).httpClient(http).build();
            source.start(new EventSourceListener() {
                @Override
                public void onOpen(HttpResponse.ResponseInfo response) {
                    opens.add(System.nanoTime());
                }

                @Override
                public void onEvent(SseEvent event) {
                    if (event.type().equals("message")) {
                        long now = nowMicros();
                        synchronized (got) { // the two lists stay index-aligned
                            got.add(event.data());
                            at.add(now);
                        }
                    }
                }

                @Override
                public void onClosed(Optional<StreamException> failure) {
                }
            });
            return new Subscriber(source, got, at, opens);
        }

        /** The reconnects (every open after the first), as nanoTime. */
        List<Long> reconnects() {
            return opens.stream().skip(1).toList();
        }
    }

    /**
     * Publishes {@code topic=drill&data=e<n>-<epoch µs>} through {@code hub} at {@code perSecond}
     * (paced from its start, never in bursts to catch up), each request with a 10 s timeout, until
     * {@link #close()} or {@code limit} events. What each publish got: {@link #acknowledged()} (200)
     * or {@link #refused()} (the status, or -1 for no answer, with the body).
     */
    static final class Publisher implements AutoCloseable {
        private final List<String> acknowledged = new CopyOnWriteArrayList<>();
        private final List<String> refused = new CopyOnWriteArrayList<>();
        private final AtomicBoolean publishing = new AtomicBoolean(true);
        private final AtomicInteger sent = new AtomicInteger();
        private final Thread thread;

        Publisher(HttpClient http, URI hub, int perSecond, int limit) {
            String token = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", KEY.getBytes(UTF_8));
            long period = TimeUnit.SECONDS.toNanos(1) / perSecond;
            thread = Thread.ofPlatform().name("drill-publisher").start(() -> {
                long next = System.nanoTime();
                while (publishing.get() && sent.get() < limit) {
                    String data = "e" + sent.getAndIncrement() + "-" + nowMicros();
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(hub).timeout(Duration.ofSeconds(10))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString("topic=drill&data=" + data)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            acknowledged.add(data);
                        } else {
                            refused.add(r.statusCode() + " " + data + " at " + Instant.now() + ": " + r.body().strip());
                        }
                    } catch (java.io.IOException e) {
                        refused.add("-1 " + data + " at " + Instant.now() + ": " + e); // no answer at all
                    } catch (InterruptedException e) {
                        return;
                    }
                    next = Math.max(next + period, System.nanoTime() - period);
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            });
        }

        List<String> acknowledged() {
            return acknowledged;
        }

        /** Each refused publish: its status (-1: no answer), data, time and the answer's body. */
        List<String> refused() {
            return refused;
        }

        int sent() {
            return sent.get();
        }

        /** Stops publishing and waits (up to 15 s: one request's timeout and a margin) for the last request. */
        @Override
        public void close() {
            publishing.set(false);
            try {
                thread.join(Duration.ofSeconds(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Asserts that every subscriber received (within {@code wait}) every acknowledged event exactly
     * once and in order; events not acknowledged (a refused publish that was stored anyway) may be
     * there too, once each.
     */
    static void assertEveryAcknowledgedEventOnceInOrder(List<Subscriber> subscribers, List<String> acknowledged, Duration wait) {
        Set<String> acked = Set.copyOf(acknowledged);
        for (int s = 0; s < subscribers.size(); s++) {
            List<String> got = subscribers.get(s).received();
            await("subscriber " + s + " has every acknowledged event").atMost(wait).until(() -> got.containsAll(acked));
            assertThat(new HashSet<>(got)).as("subscriber %d: no event twice", s).hasSameSizeAs(got);
            assertThat(got.stream().filter(acked::contains).toList()).as("subscriber %d: every acknowledged event, in order", s)
                    .isEqualTo(acknowledged);
        }
    }

    /**
     * One node's drain, from its SIGTERM to its exit, and HAProxy's view of the node right after it
     * exited. {@code stillRouted}: HAProxy had not taken the node out (its {@code /readyz} checks
     * lagged, on a loaded machine, beyond the time the node stays unready before it ends: 5 s, or its
     * window when shorter). README promises that publishes routed to a draining node are accepted
     * only within that time; past it, a publish HAProxy still sends to the node as it ends is refused
     * (the hub's 503 once its broadcaster closed) or cut (no answer: HAProxy closes a keep-alive client
     * connection without a response when the server closes under a request, for the client to retry,
     * and the JDK's HttpClient does not retry a POST: "header parser received no bytes").
     */
    record Drained(int node, Instant from, Instant to, String status, boolean stillRouted) {
    }

    /**
     * The refused publishes README's drain promise does not cover: all of them but those answered
     * (or cut) during a drain that ended while HAProxy still routed to the node (from its SIGTERM to
     * 1 s after its exit); each refused entry carries {@code at INSTANT:}.
     */
    static List<String> refusedDespiteTheDrain(List<String> refused, List<Drained> drains) {
        List<String> out = new ArrayList<>();
        for (String r : refused) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(" at (\\S+): ").matcher(r);
            Instant at = m.find() ? Instant.parse(m.group(1)) : null;
            boolean excused = at != null && drains.stream().anyMatch(d -> d.stillRouted() && !at.isBefore(d.from())
                    && !at.isAfter(d.to().plusSeconds(1)));
            if (!excused) {
                out.add(r);
            }
        }
        return out;
    }

    /** A named span of the drill in epoch µs: events sent in it are counted to it. */
    record Phase(String name, long fromMicros, long toMicros) {
    }

    /**
     * The delivery latencies (receipt minus send, µs) of the acknowledged events sent in {@code phase},
     * over every subscriber, sorted.
     */
    static long[] latencies(List<Subscriber> subscribers, Set<String> acknowledged, Phase phase) {
        List<Long> all = new ArrayList<>();
        for (Subscriber s : subscribers) {
            synchronized (s.received()) {
                for (int i = 0; i < s.received().size(); i++) {
                    String data = s.received().get(i);
                    long sent = sentMicros(data);
                    if (sent >= phase.fromMicros() && sent < phase.toMicros() && acknowledged.contains(data)) {
                        all.add(s.receivedAt().get(i) - sent);
                    }
                }
            }
        }
        return all.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** The {@code q} quantile (0..1) of sorted values, 0 when there are none. */
    static long quantile(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** One line per phase: deliveries, p50 and p99 latency in ms. */
    static String latencyReport(List<Subscriber> subscribers, List<String> acknowledged, List<Phase> phases) {
        Set<String> acked = Set.copyOf(acknowledged);
        StringBuilder b = new StringBuilder();
        for (Phase p : phases) {
            long[] l = latencies(subscribers, acked, p);
            b.append(String.format("drill latency: %-22s %7d deliveries, p50 %7.1f ms, p99 %7.1f ms, max %7.1f ms%n", p.name(),
                    l.length, quantile(l, 0.5) / 1000.0, quantile(l, 0.99) / 1000.0, l.length == 0 ? 0 : l[l.length - 1] / 1000.0));
        }
        return b.toString();
    }

    /**
     * The largest number of {@code times} (nanoTime, sorted) in any one-second window.
     */
    static int peakPerSecond(List<Long> times) {
        List<Long> sorted = times.stream().sorted().toList();
        int peak = 0;
        for (int a = 0, b = 0; a < sorted.size(); a++) {
            while (b < sorted.size() && sorted.get(b) < sorted.get(a) + 1_000_000_000L) {
                b++;
            }
            peak = Math.max(peak, b - a);
        }
        return peak;
    }
}
