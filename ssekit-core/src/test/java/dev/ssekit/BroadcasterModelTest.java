package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.spi.SseTransport;
import dev.ssekit.spi.StoredEvent;
import dev.ssekit.testkit.ManualScheduler;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A randomized model check of the broadcaster (issue #27): each seed builds a broadcaster on a
 * manual clock whose delivery groups run only when the model steps their loop (one dedicated
 * thread per loop, as a Netty event loop), over an in-memory transport of the SPI whose writes
 * complete only when the model flushes them (healthy), never (slow: a stuck write), or with an
 * error (dead). It interleaves subscribe (live, {@code earliest}, a retained id, an expired id, an
 * unknown id), cancel and resubscribe on the same connection, publishes (single and several at
 * once, from publisher threads and from a delivery thread of the broadcaster's), interrupts of waiting publishers,
 * slow and dead sockets, peers that go away, time (heartbeats, write timeouts, history expiry),
 * and close. After the run it checks: every subscription got its events in order without
 * duplicates, exactly the log's events for its topics from its resume point (a prefix if it ended:
 * cancelled, evicted, gone, shut down), a reset notice where its resume point was not in history;
 * a replay within history never evicts; no publisher, delivery thread or {@code close()} waits for
 * ever; nothing stays registered (stats) or reachable (a cancelled subscription) after it ended.
 *
 * <p>CI runs {@link #CI_SEEDS} seeds; {@code bin/model-check [SEEDS] [START_SEED] [MINUTES]} runs
 * any number (system properties {@code ssekit.model.seeds}, {@code ssekit.model.start}, {@code
 * ssekit.model.minutes}). A failing seed prints itself, its violations and its trace (the
 * operations, replayable by running the seed again).
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class BroadcasterModelTest {

    static final int CI_SEEDS = 40;
    private static final long SETTLE_MILLIS = 3000;
    private static final String[] TOPICS = {"a", "b", "c"};

    @Test
    void randomInterleavingsKeepEverySubscribersStreamExact() {
        int seeds = Integer.getInteger("ssekit.model.seeds", CI_SEEDS);
        long start = Long.getLong("ssekit.model.start", 1);
        long minutes = Long.getLong("ssekit.model.minutes", 0);
        long deadline = minutes > 0 ? System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes) : Long.MAX_VALUE;
        Map<String, List<Long>> failuresByKind = new TreeMap<>();
        List<String> reports = new ArrayList<>();
        int ran = 0;
        for (long seed = start; seed < start + seeds && System.nanoTime() < deadline; seed++) {
            Run run = new Run(seed);
            List<String> violations = run.execute();
            ran++;
            if (!violations.isEmpty()) {
                Set<String> kinds = new TreeSet<>();
                for (String v : violations) {
                    kinds.add(v.substring(0, v.indexOf(']') + 1));
                }
                kinds.forEach(k -> failuresByKind.computeIfAbsent(k, x -> new ArrayList<>()).add(run.seed));
                String report = "seed " + run.seed + " FAILED " + kinds + "\n  violations:\n    " + String.join("\n    ", violations)
                        + "\n  config: " + run.config + "\n  trace (" + run.trace.size() + " steps):\n    "
                        + String.join("\n    ", run.trace);
                if (reports.size() < 5) {
                    System.out.println(report);
                } else {
                    System.out.println("seed " + run.seed + " FAILED " + kinds);
                }
                reports.add(report);
            }
        }
        StringBuilder summary = new StringBuilder("model check: " + ran + " seeds from " + start + ", " + reports.size() + " failed");
        failuresByKind.forEach((k, v) -> summary.append("\n  ").append(k).append(" in ").append(v.size()).append(" seeds, first ")
                .append(v.getFirst()).append(": ").append(v.subList(0, Math.min(10, v.size()))));
        System.out.println(summary);
        assertThat(reports).as(summary + (reports.isEmpty() ? "" : "\nfirst failure:\n" + reports.getFirst())).isEmpty();
    }

    /** A delivery loop: one thread of its own that runs what was handed to it only when stepped. */
    static final class ModelLoop implements Executor {
        private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
        private final Thread thread;
        private CompletableFuture<Void> step;
        private boolean stopped;

        ModelLoop(String name) {
            thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
        }

        @Override
        public synchronized void execute(Runnable task) {
            pending.add(task);
        }

        synchronized boolean hasWork() {
            return !pending.isEmpty();
        }

        private void loop() {
            while (true) {
                CompletableFuture<Void> s;
                synchronized (this) {
                    while (step == null && !stopped) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    if (stopped) {
                        return;
                    }
                    s = step;
                }
                try {
                    while (true) {
                        Runnable r;
                        synchronized (this) {
                            r = pending.poll();
                        }
                        if (r == null) {
                            break;
                        }
                        r.run();
                    }
                } catch (RuntimeException | Error e) {
                    s.completeExceptionally(e);
                }
                synchronized (this) {
                    step = null;
                }
                s.complete(null);
            }
        }

        /** Runs what is pending on the loop's thread; false if it did not finish within the bound. */
        boolean step(long millis) {
            CompletableFuture<Void> s = new CompletableFuture<>();
            synchronized (this) {
                step = s;
                notifyAll();
            }
            try {
                s.get(millis, TimeUnit.MILLISECONDS);
                return true;
            } catch (java.util.concurrent.TimeoutException e) {
                return false;
            } catch (Exception e) {
                throw new IllegalStateException("a delivery task threw", e);
            }
        }

        void stop() {
            synchronized (this) {
                stopped = true;
                notifyAll();
            }
            thread.interrupt();
        }
    }

    enum Socket { HEALTHY, SLOW, DEAD }

    /** The SPI transport of one model client: keeps what it is given; writes complete when the model says. */
    static final class ModelTransport implements SseTransport {
        record Write(Supplier<List<byte[]>> source, Consumer<IOException> done) {
        }

        final int number;
        final ModelLoop loop;
        final StringBuilder received = new StringBuilder();
        final ArrayDeque<Write> writes = new ArrayDeque<>();
        /** A write pulled and not completed (a stuck one while SLOW). */
        Write inFlight;
        volatile Socket socket = Socket.HEALTHY;
        volatile boolean closed;
        /** A write failed: the connection closes (on a thread of core's) soon. */
        volatile boolean failed;
        volatile Runnable peerClosed;
        String lastEventId;

        ModelTransport(int number, ModelLoop loop) {
            this.number = number;
            this.loop = loop;
        }

        @Override
        public synchronized void write(byte[] bytes) throws IOException {
            if (socket == Socket.DEAD) {
                throw new IOException("model: dead socket");
            }
            received.append(new String(bytes, UTF_8));
        }

        @Override
        public boolean supportsAsyncWrite() {
            return true;
        }

        @Override
        public synchronized void writeAsync(Supplier<List<byte[]>> source, Consumer<IOException> done) {
            writes.add(new Write(source, done));
        }

        @Override
        public Executor deliveryExecutor() {
            return loop;
        }

        @Override
        public void close() {
            closed = true;
            failPending();
        }

        @Override
        public void abort() {
            closed = true;
            failPending();
        }

        private void failPending() {
            List<Write> failed = new ArrayList<>();
            synchronized (this) {
                if (inFlight != null) {
                    failed.add(inFlight);
                    inFlight = null;
                }
                failed.addAll(writes);
                writes.clear();
            }
            failed.forEach(w -> w.done().accept(new IOException("model: connection closed")));
        }

        @Override
        public void onPeerClosed(Runnable action) {
            peerClosed = action;
        }

        @Override
        public Optional<String> lastEventId() {
            return Optional.ofNullable(lastEventId);
        }

        synchronized String state() {
            return socket + (closed ? " closed" : "") + ", " + writes.size() + " writes waiting" + (inFlight != null ? ", one in flight" : "");
        }

        /** Moves the writes on as the socket allows; returns whether anything happened. */
        boolean flush() {
            boolean progress = false;
            for (int rounds = 0; rounds < 1000; rounds++) {
                Write w;
                List<byte[]> frames = null;
                Socket s = socket;
                synchronized (this) {
                    if (inFlight != null) {
                        if (s == Socket.SLOW) {
                            return progress;
                        }
                        w = inFlight;
                        inFlight = null;
                    } else {
                        w = writes.poll();
                        if (w == null) {
                            return progress;
                        }
                        if (s != Socket.DEAD) {
                            frames = w.source().get();
                            if (frames == null) {
                                progress = true;
                                continue; // nothing to write: done is not called
                            }
                            for (byte[] f : frames) {
                                received.append(new String(f, UTF_8));
                            }
                            if (s == Socket.SLOW) {
                                inFlight = w; // on the wire, never acknowledged while slow
                                return true;
                            }
                        }
                    }
                }
                progress = true;
                if (s == Socket.DEAD) {
                    failed = true;
                }
                w.done().accept(s == Socket.DEAD ? new IOException("model: dead socket") : null);
            }
            return progress;
        }
    }

    /** One subscription on a model connection, and what the model expects of it. */
    static final class Incarnation {
        final int number;
        final ModelTransport transport;
        final SseConnection connection;
        final Set<String> topics;
        final String resume;
        /** The expected stream: events of these topics with a sequence above this one. */
        long after;
        /** The reset reason expected first, or null. */
        String reset;
        /** Where this subscription's frames start in the transport's received text. */
        final int from;
        int to = -1;
        String ended; // null while subscribed
        WeakReference<Subscription> ref;

        Incarnation(int number, ModelTransport transport, SseConnection connection, Set<String> topics, String resume) {
            this.number = number;
            this.transport = transport;
            this.connection = connection;
            this.topics = topics;
            this.resume = resume;
            synchronized (transport) {
                this.from = transport.received.length();
            }
        }

        String frames() {
            synchronized (transport) {
                return transport.received.substring(from, to < 0 ? transport.received.length() : to);
            }
        }
    }

    /** One seed's run. */
    static final class Run {
        final long seed;
        final Random rnd;
        final List<String> trace = new ArrayList<>();
        final List<String> violations = new ArrayList<>();
        final ManualScheduler time = new ManualScheduler();
        final List<ModelLoop> loops = new ArrayList<>();
        /** Loops the broadcaster has a delivery group on (a subscription on them started): its delivery threads. */
        final Set<ModelLoop> grouped = new java.util.HashSet<>();
        final List<ModelTransport> transports = new ArrayList<>();
        final Map<ModelTransport, Incarnation> current = new HashMap<>();
        final Map<ModelTransport, Subscription> subscriptions = new HashMap<>();
        final List<Incarnation> incarnations = new ArrayList<>();
        final List<Thread> publishers = new ArrayList<>();
        /** Every event the log stored, by sequence (read from history after every step, before it can expire). */
        final TreeMap<Long, StoredEvent> ground = new TreeMap<>();
        final Map<String, Long> seqById = new HashMap<>();
        final String config;
        final int maxEvents;
        final Duration maxAge;
        final Duration writeTimeout;
        final Broadcaster b;
        int published;
        boolean closed;

        Run(long seed) {
            this.seed = seed;
            this.rnd = new Random(seed);
            maxEvents = 16 + rnd.nextInt(17);
            maxAge = Duration.ofSeconds(20 + rnd.nextInt(40));
            writeTimeout = Duration.ofSeconds(5 + rnd.nextInt(10));
            Duration heartbeat = Duration.ofSeconds(3 + rnd.nextInt(10));
            long maxQueued = 1024L << rnd.nextInt(4);
            int backlog = 1 + rnd.nextInt(4);
            int nLoops = 1 + rnd.nextInt(2);
            config = "maxEvents=" + maxEvents + " maxAge=" + maxAge + " writeTimeout=" + writeTimeout + " heartbeat=" + heartbeat
                    + " maxQueuedBytes=" + maxQueued + " deliveryBacklog=" + backlog + " loops=" + nLoops;
            for (int i = 0; i < nLoops; i++) {
                loops.add(new ModelLoop("model-loop-" + seed + "-" + i));
            }
            b = Broadcaster.builder().scheduler(time).ticker(time).history(maxEvents, 1L << 20, maxAge).heartbeat(heartbeat)
                    .writeTimeout(writeTimeout).maxQueuedBytes(maxQueued).deliveryBacklog(backlog)
                    .slowConsumerPolicy(SlowConsumerPolicy.DISCONNECT).build();
        }

        void violation(String kind, String what) {
            violations.add("[" + kind + "] " + what);
        }

        List<String> execute() {
            try {
                int ops = 40 + rnd.nextInt(80);
                int closeAt = rnd.nextInt(4) == 0 ? ops / 2 + rnd.nextInt(ops / 2) : -1;
                for (int i = 0; i < ops && violations.isEmpty(); i++) {
                    if (i == closeAt) {
                        close();
                    } else {
                        step();
                    }
                    if (!settle()) {
                        break;
                    }
                }
                if (violations.isEmpty()) {
                    finish();
                }
            } catch (RuntimeException | Error e) {
                java.io.StringWriter w = new java.io.StringWriter();
                e.printStackTrace(new java.io.PrintWriter(w));
                violation("HARNESS", "unexpected " + w);
            } finally {
                cleanup();
            }
            return violations;
        }

        private void cleanup() {
            for (Thread t : publishers) {
                t.interrupt();
            }
            if (!closed) {
                Thread closer = Thread.ofPlatform().daemon().start(b::close);
                try {
                    closer.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            loops.forEach(l -> {
                l.step(200);
                l.stop();
            });
        }

        private void step() {
            int op = rnd.nextInt(100);
            if (op < 16) {
                subscribe(transports.isEmpty() || rnd.nextInt(3) == 0 ? newTransport() : pick(transports));
            } else if (op < 22) {
                cancel();
            } else if (op < 40) {
                publish(1 + (rnd.nextInt(3) == 0 ? rnd.nextInt(4) : 0), false);
            } else if (op < 43) {
                publish(1 + rnd.nextInt(3), true);
            } else if (op < 60) {
                ModelLoop l = pick(loops);
                trace("step loop " + loops.indexOf(l));
                stepLoop(l);
            } else if (op < 75) {
                if (!transports.isEmpty()) {
                    ModelTransport t = pick(transports);
                    trace("flush socket " + t.number + " (" + t.socket + ")");
                    t.flush();
                }
            } else if (op < 81) {
                if (!transports.isEmpty()) {
                    ModelTransport t = pick(transports);
                    Socket s = rnd.nextInt(4) == 0 ? Socket.DEAD : rnd.nextBoolean() ? Socket.SLOW : Socket.HEALTHY;
                    if (t.socket != Socket.DEAD) {
                        trace("socket " + t.number + " -> " + s);
                        t.socket = s;
                    }
                }
            } else if (op < 84) {
                if (!transports.isEmpty()) {
                    ModelTransport t = pick(transports);
                    if (t.peerClosed != null && !t.closed) {
                        trace("peer of socket " + t.number + " goes away");
                        t.socket = Socket.DEAD;
                        t.peerClosed.run();
                    }
                }
            } else if (op < 89) {
                interrupt();
            } else if (op < 96) {
                Duration d = rnd.nextInt(4) == 0 ? maxAge.plusSeconds(1) : Duration.ofSeconds(1 + rnd.nextInt(8));
                snapshot(); // before what expires goes
                trace("advance time " + d.toSeconds() + " s");
                time.advance(d);
            } else {
                trace("stats " + b.stats());
            }
        }

        private <T> T pick(List<T> list) {
            return list.get(rnd.nextInt(list.size()));
        }

        private void trace(String s) {
            trace.add(trace.size() + ": " + s);
        }

        private ModelTransport newTransport() {
            ModelTransport t = new ModelTransport(transports.size(), pick(loops));
            transports.add(t);
            return t;
        }

        private String resumePoint() {
            int r = rnd.nextInt(10);
            if (r < 3 || ground.isEmpty()) {
                return r == 0 ? Broadcaster.EARLIEST : "";
            }
            if (r < 7) {
                StoredEvent e = ground.get(ground.firstKey() + rnd.nextLong(ground.lastKey() - ground.firstKey() + 1));
                return e.id(); // retained, or expired
            }
            if (r == 7) {
                return Broadcaster.EARLIEST;
            }
            if (r == 8) {
                return b.log().epoch() + "-" + (b.log().lastSequence() + 1 + rnd.nextInt(5)); // ours, never stored
            }
            return "elsewhere-" + rnd.nextInt(100);
        }

        private void subscribe(ModelTransport t) {
            if (closed || t.closed || current.containsKey(t)) {
                return;
            }
            snapshot();
            Set<String> topics = new java.util.TreeSet<>();
            topics.add(pick(List.of(TOPICS)));
            if (rnd.nextBoolean()) {
                topics.add(pick(List.of(TOPICS)));
            }
            String resume = resumePoint();
            SseConnection c = connectionOf(t);
            Incarnation inc = new Incarnation(incarnations.size(), t, c, topics, resume);
            // what the documented contract makes of the resume point, from what history holds now
            long last = b.log().lastSequence();
            Optional<StoredEvent> oldest = b.log().oldest();
            long firstRetained = oldest.map(StoredEvent::sequence).orElse(last + 1);
            if (resume.isEmpty()) {
                inc.after = last;
            } else if (resume.equals(Broadcaster.EARLIEST)) {
                inc.after = firstRetained - 1;
            } else if (seqById.containsKey(resume) && seqById.get(resume) >= firstRetained) {
                inc.after = seqById.get(resume);
            } else if (seqById.containsKey(resume)) {
                inc.reset = "expired";
                inc.after = firstRetained - 1;
            } else {
                inc.reset = "unknown";
                inc.after = last;
            }
            long slowBefore = b.stats().evictions().getOrDefault(CloseReason.SLOW_CONSUMER, 0L);
            trace("subscribe #" + inc.number + " on socket " + t.number + " (loop " + loops.indexOf(t.loop) + ") to " + topics
                    + " from " + (resume.isEmpty() ? "now" : resume) + " [expects after=" + inc.after
                    + (inc.reset != null ? ", reset " + inc.reset : "") + "]");
            Subscription s;
            try {
                Broadcaster.SubscribeRequest r = b.subscription(c).topics(topics.stream().map(TopicSelector::exact).toList());
                if (!resume.isEmpty()) {
                    r.resumeFrom(resume);
                }
                s = r.start();
            } catch (IllegalStateException e) {
                trace("  refused: " + e.getMessage());
                return;
            }
            incarnations.add(inc);
            grouped.add(t.loop);
            current.put(t, inc);
            subscriptions.put(t, s);
            inc.ref = new WeakReference<>(s);
            long slowAfter = b.stats().evictions().getOrDefault(CloseReason.SLOW_CONSUMER, 0L);
            if (slowAfter > slowBefore) {
                violation("REPLAY-EVICTED", "subscribe #" + inc.number + " from " + resume
                        + " was evicted as a slow consumer by its own replay, before a byte was written");
            }
        }

        private final Map<ModelTransport, SseConnection> connections = new HashMap<>();

        private SseConnection connectionOf(ModelTransport t) {
            return connections.computeIfAbsent(t, Sse::open);
        }

        private void cancel() {
            List<ModelTransport> subscribed = new ArrayList<>(current.keySet());
            subscribed.sort((x, y) -> Integer.compare(x.number, y.number));
            if (subscribed.isEmpty()) {
                return;
            }
            ModelTransport t = pick(subscribed);
            Incarnation inc = current.remove(t);
            trace("cancel #" + inc.number + " on socket " + t.number);
            subscriptions.remove(t).cancel();
            end(inc, "cancelled");
        }

        private void end(Incarnation inc, String why) {
            inc.ended = why;
            synchronized (inc.transport) {
                inc.to = inc.transport.received.length();
            }
        }

        private void publish(int n, boolean fromLoop) {
            if (closed) {
                return;
            }
            List<SseMessage> messages = new ArrayList<>();
            List<List<String>> topics = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int p = published++;
                List<String> ts = new ArrayList<>(new TreeSet<>(List.of(pick(List.of(TOPICS)), pick(List.of(TOPICS)))));
                if (rnd.nextBoolean()) {
                    ts = List.of(ts.getFirst());
                }
                topics.add(ts);
                messages.add(SseMessage.of("p" + p + " " + ts + " " + "x".repeat(rnd.nextInt(3) == 0 ? rnd.nextInt(700) : 20)));
            }
            List<ModelLoop> delivering = loops.stream().filter(grouped::contains).toList();
            if (fromLoop && delivering.isEmpty()) {
                fromLoop = false; // a loop without a group is just another thread to the broadcaster: it may wait
            }
            if (fromLoop) {
                ModelLoop l = pick(delivering);
                trace("publish " + n + " async on loop " + loops.indexOf(l) + ": " + topics);
                l.execute(() -> {
                    for (int i = 0; i < n; i++) {
                        b.publishAsync(messages.get(i), topics.get(i), false);
                    }
                });
                stepLoop(l);
                return;
            }
            Thread t = Thread.ofPlatform().daemon().name("model-publisher-" + publishers.size()).unstarted(() -> {
                for (int i = 0; i < n; i++) {
                    try {
                        b.publish(messages.get(i), topics.get(i));
                    } catch (RuntimeException e) {
                        // a refused or failed publish: what the log stored is what counts
                    }
                }
            });
            trace("publish " + n + " on " + t.getName() + ": " + topics);
            publishers.add(t);
            t.start();
        }

        private void interrupt() {
            for (Thread t : publishers) {
                if (t.isAlive()) {
                    trace("interrupt " + t.getName() + " (" + t.getState() + ")");
                    t.interrupt();
                    return;
                }
            }
        }

        private void stepLoop(ModelLoop l) {
            if (!l.step(SETTLE_MILLIS)) {
                violation("LOOP-BLOCKED", "delivery loop " + loops.indexOf(l) + " did not finish its tasks within " + SETTLE_MILLIS
                        + " ms: " + stack(l.thread));
            }
        }

        private static String stack(Thread t) {
            StringBuilder s = new StringBuilder(t.getName() + " " + t.getState());
            for (StackTraceElement e : t.getStackTrace()) {
                s.append("\n        at ").append(e);
            }
            return s.toString();
        }

        /** Waits until every publisher has finished or waits, and evictions on their threads are done. */
        private boolean settle() {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS);
            int quiet = 0;
            while (quiet < 3) {
                boolean busy = false;
                for (Thread t : publishers) {
                    Thread.State s = t.getState();
                    if (s == Thread.State.RUNNABLE || s == Thread.State.NEW) {
                        busy = true;
                    }
                }
                for (ModelTransport t : transports) {
                    busy |= t.failed && !t.closed; // core closes it on a thread of its own
                }
                long open = current.values().stream().filter(i -> i.connection.isOpen()).count();
                busy |= !closed && b.stats().connections() != open; // an eviction closes the connection on a thread of its own
                quiet = busy ? 0 : quiet + 1;
                if (System.nanoTime() > end) {
                    break;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            publishers.removeIf(t -> !t.isAlive());
            snapshot();
            noticeEnds();
            return violations.isEmpty();
        }

        /** Subscriptions whose connection closed (evicted, gone, shut down) have ended. */
        private void noticeEnds() {
            for (var it = current.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (!e.getValue().connection.isOpen()) {
                    end(e.getValue(), "connection " + e.getValue().connection);
                    subscriptions.remove(e.getKey());
                    it.remove();
                }
            }
        }

        private void snapshot() {
            long from = ground.isEmpty() ? 0 : ground.lastKey();
            for (StoredEvent e : b.log().after(from)) {
                if (e.sequence() != from + 1) {
                    violation("HARNESS", "history lost events " + (from + 1) + ".." + (e.sequence() - 1) + " before the model read them");
                }
                ground.put(e.sequence(), e);
                seqById.put(e.id(), e.sequence());
                from = e.sequence();
            }
        }

        private void close() {
            snapshot();
            trace("close the broadcaster");
            closed = true;
            CompletableFuture<Void> done = CompletableFuture.runAsync(b::close, r -> Thread.ofPlatform().daemon().start(r));
            try {
                done.get(SETTLE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                StringBuilder stuck = new StringBuilder();
                Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("model-publisher")
                        && t.isAlive()).forEach(t -> stuck.append("\n      ").append(stack(t)));
                violation("CLOSE-BLOCKED", "close() did not return within " + SETTLE_MILLIS + " ms (delivery not stepped meanwhile);"
                        + " publishers:" + stuck);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Heals the slow sockets and drains everything, checks the streams, closes and checks that everything ends. */
        private void finish() {
            trace("settle: slow sockets heal, every loop and socket drains");
            for (ModelTransport t : transports) {
                if (t.socket == Socket.SLOW) {
                    t.socket = Socket.HEALTHY;
                }
            }
            drainAll();
            if (!violations.isEmpty()) {
                return;
            }
            for (Thread t : publishers) {
                violation("PUBLISHER-STUCK", t.getName() + " still waits after every loop and socket drained: " + stack(t));
            }
            check(!closed);
            if (!violations.isEmpty()) {
                return;
            }
            long alive = current.size();
            long registered = b.stats().connections();
            if (!closed && registered != alive) {
                violation("LEAK-STATS", "stats count " + registered + " subscribers, the model has " + alive + " subscribed");
            }
            if (!closed) {
                close();
            }
            // the shutdown notice goes through each group and socket; then the write timeout closes the rest
            drainAll();
            time.advance(writeTimeout.plusSeconds(1));
            drainAll();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS);
            while (System.nanoTime() < end && (b.stats().connections() > 0 || current.values().stream()
                    .anyMatch(i -> i.connection.isOpen()))) {
                drainAll();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (b.stats().connections() != 0) {
                violation("LEAK-STATS", "after close and the write timeout, stats still count " + b.stats().connections());
            }
            for (Incarnation i : current.values()) {
                if (i.connection.isOpen()) {
                    violation("NOT-CLOSED", "#" + i.number + " is still open after close and the write timeout");
                }
            }
            noticeEnds();
            check(false);
            leaks();
        }

        private void drainAll() {
            int idle = 0;
            for (int round = 0; round < 200 && violations.isEmpty(); round++) {
                boolean progress = false;
                for (ModelLoop l : loops) {
                    if (l.hasWork()) {
                        progress = true;
                        stepLoop(l);
                    }
                }
                for (ModelTransport t : transports) {
                    progress |= t.flush();
                }
                settle();
                if (!progress) {
                    // a publisher woken by a drained group may not have run yet on loaded cores
                    // (settle() takes a parked thread for a waiting one): its next event lands in
                    // a group after the loops were found idle. Look again a few times over 200 ms
                    // (more than a waiting publisher's 100 ms re-check) before calling it drained
                    if (publishers.isEmpty() || ++idle > 10) {
                        return;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                } else {
                    idle = 0;
                }
            }
        }

        /** Cancelled subscriptions must not stay reachable from their (still referenced) connection. */
        private void leaks() {
            List<Incarnation> cancelled = incarnations.stream().filter(i -> "cancelled".equals(i.ended)).toList();
            if (cancelled.isEmpty()) {
                return;
            }
            subscriptions.clear();
            for (int i = 0; i < 3 && cancelled.stream().anyMatch(c -> c.ref.get() != null); i++) {
                System.gc();
            }
            for (Incarnation c : cancelled) {
                if (c.ref.get() != null && connections.containsKey(c.transport)) {
                    violation("LEAK-GC", "cancelled subscription #" + c.number + " is still reachable (its connection "
                            + "holds it) after cancel and GC");
                    return;
                }
            }
        }

        /** The oracle: each subscription's stream against the log. */
        private void check(boolean completeWhileOpen) {
            for (Incarnation inc : incarnations) {
                List<String> frames = parse(inc.frames());
                int k = 0;
                if (inc.reset != null) {
                    String want = "reset:{\"lastEventId\":\"" + inc.resume + "\",\"reason\":\"" + inc.reset + "\"}";
                    if (frames.isEmpty() && inc.ended == null) {
                        violation("RESET", "#" + inc.number + " got no reset notice for " + inc.resume);
                    } else if (!frames.isEmpty() && !frames.getFirst().equals(want)) {
                        violation("RESET", "#" + inc.number + " first frame " + frames.getFirst() + ", expected " + want);
                    }
                    k = frames.isEmpty() ? 0 : 1;
                }
                List<StoredEvent> expected = new ArrayList<>();
                for (StoredEvent e : ground.tailMap(inc.after, false).values()) {
                    if (e.topics().stream().anyMatch(inc.topics::contains)) {
                        expected.add(e);
                    }
                }
                // walks the stream against the log: each event the next one the log has for it, except
                // right after an explicit reset (history expired under a paced replay), which may skip ahead
                boolean shutdown = false;
                boolean skipAllowed = false;
                String lastId = inc.resume.isEmpty() || inc.resume.equals(Broadcaster.EARLIEST) ? null : inc.resume;
                int p = 0;
                List<Long> seqs = new ArrayList<>();
                for (; k < frames.size(); k++) {
                    String f = frames.get(k);
                    if (shutdown) {
                        violation("AFTER-SHUTDOWN", "#" + inc.number + " got " + f + " after the shutdown notice");
                        break;
                    }
                    if (f.startsWith("shutdown:")) {
                        shutdown = true;
                    } else if (f.startsWith("reset:")) {
                        // the last id the client has: the last event's, its resume point's, or none ("")
                        String want = "reset:{\"lastEventId\":\"" + (lastId == null ? "" : lastId) + "\",\"reason\":\"expired\"}";
                        if (!f.equals(want)) {
                            violation("RESET", "#" + inc.number + " got " + f + " in its stream; expected " + want);
                        }
                        skipAllowed = true;
                    } else if (f.startsWith("id:")) {
                        String id = f.substring(3);
                        Long s = seqById.get(id);
                        if (s == null) {
                            violation("UNKNOWN-EVENT", "#" + inc.number + " got an event the log never stored: " + f);
                            continue;
                        }
                        seqs.add(s);
                        lastId = id;
                        int q = p;
                        while (q < expected.size() && expected.get(q).sequence() < s) {
                            q++;
                        }
                        if (q >= expected.size() || expected.get(q).sequence() != s) {
                            violation("DUP-ORDER", "#" + inc.number + " got " + s + " out of the log's order for it: " + seqs);
                            break;
                        }
                        if (q != p && !skipAllowed) {
                            violation("GAP", "#" + inc.number + " (" + inc.topics + " from " + inc.resume + ", " + (inc.ended == null
                                    ? "subscribed" : inc.ended) + ") got " + s + " but the log has " + expected.subList(p, q).stream()
                                    .map(StoredEvent::sequence).toList() + " before it, with no reset; got " + seqs);
                            break;
                        }
                        skipAllowed = false;
                        p = q + 1;
                    } else if (!f.equals("heartbeat") && !f.startsWith("close:")) {
                        violation("UNEXPECTED-FRAME", "#" + inc.number + " got " + f);
                    }
                }
                if (completeWhileOpen && inc.ended == null && p != expected.size()) {
                    violation("INCOMPLETE", "#" + inc.number + " (" + inc.topics + " from " + inc.resume + ") is subscribed and drained"
                            + " but its stream stops before the log's " + expected.subList(p, expected.size()).stream()
                            .map(StoredEvent::sequence).toList() + "; got " + seqs + "; its socket: " + inc.transport.state()
                            + ", connection " + inc.connection + ", queued " + Optional.ofNullable(subscriptions.get(inc.transport))
                            .map(Subscription::queuedBytes).orElse(-1L) + " bytes; " + b.stats());
                }
            }
        }

        /** The frames of a stream: {@code id:<id>}, {@code reset:<data>}, {@code shutdown:}, {@code heartbeat}, ... */
        private static List<String> parse(String text) {
            List<String> out = new ArrayList<>();
            for (String block : text.split("\n\n")) {
                if (block.isEmpty()) {
                    continue;
                }
                Map<String, String> fields = new LinkedHashMap<>();
                boolean comment = true;
                for (String line : block.split("\n")) {
                    if (line.startsWith(":")) {
                        continue;
                    }
                    comment = false;
                    int colon = line.indexOf(':');
                    String name = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1).stripLeading();
                    fields.merge(name, value, (x, y) -> x + "\n" + y);
                }
                if (comment) {
                    out.add("heartbeat");
                } else if (fields.containsKey("event")) {
                    out.add(fields.get("event") + ":" + fields.getOrDefault("data", ""));
                } else if (fields.containsKey("id")) {
                    out.add("id:" + fields.get("id"));
                } else {
                    out.add("other:" + fields);
                }
            }
            return out;
        }
    }
}
