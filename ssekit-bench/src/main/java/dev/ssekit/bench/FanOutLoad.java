package dev.ssekit.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The client side of the fan-out benchmark: N SSE connections spread over several reader threads
 * (one selector each, {@code -Dload.threads}, default: the cores, at most 4), opened with
 * non-blocking connects (at most {@value #IN_FLIGHT_CONNECTS} in flight per thread) from a fresh
 * loopback source address per 10,000 connections, so one process holds up to ~19,000 under the
 * 20,000 open-file limit. Usage:
 * {@code FanOutLoad PORT[,PORT...] CONTROL_PORT CONNECTIONS EVENTS SIZE [PATH [RATE [storm] [dead=PERCENT] [burst] [idle] [warmup] [hold=SECONDS]]]}
 * (PATH: {@code /sse} by default; with several ports, connections go to them round-robin; RATE:
 * events per second, 0 = as fast as possible).
 *
 * <p>Every event's data starts with the publisher's {@code System.nanoTime()} (19 digits; the due
 * time when paced) and a 9-digit sequence number. Per delivery it records publish-to-receive
 * latency in an HDR histogram, counts deliveries (only events carrying a sequence number), and
 * checks order: every subscriber must see the same successor for each event (a missing, repeated
 * or reordered event breaks that). Prints the heap and RSS per idle connection the server
 * reports, deliveries per second, missing events, disorder and latency percentiles.
 *
 * <p>{@code dead=P}: P % of the connections (a 4 KiB receive buffer) stop reading once their
 * response head is in (scenario d); the figures are the healthy connections'. {@code storm}: after
 * the burst every connection drops with a reset, 100 events are published, and all reconnect at
 * once with the {@code Last-Event-ID} each saw (scenario e). {@code idle}: only the heap and RSS
 * per idle connection (scenario c), no burst ({@code bin/bench-memory}). {@code burst}: the server
 * is asked to publish the whole burst at once ({@code &burst=1}; scenario f): the ceiling then writes
 * it to each socket in one write, servers without a batch publish publish it event after event. {@code warmup}: first opens
 * as many connections, closes them, publishes an event a second (a server may notice a closed
 * stream only when a write fails) until the server has let them go, so the "before"
 * figures already include what a server keeps after its first connections (JIT-compiled code, the
 * allocator arenas its threads grew, classes) and the difference is what the idle connections
 * themselves hold. {@code hold=S}: keeps the
 * idle connections open S seconds after measuring them (time to attach {@code jmap}/{@code jcmd}).
 */
public final class FanOutLoad {

    static final int IN_FLIGHT_CONNECTS = 256;
    private static final int THREADS = Integer.getInteger("load.threads",
            Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
    private static final long HOUR_NANOS = 3_600_000_000_000L;
    /** For each sequence number (mod size), 1 + the sequence number the first subscriber saw next. */
    private static final AtomicIntegerArray SUCCESSOR = new AtomicIntegerArray(1 << 20);
    /**
     * {@code -Dload.perEvent=true}: the latency of each event (by sequence number, mod 2^16), its
     * slowest and summed deliveries, printed per 10 events after the burst: where in the run the tail is.
     */
    private static final boolean PER_EVENT = Boolean.getBoolean("load.perEvent");
    private static final java.util.concurrent.atomic.AtomicLongArray EVENT_MAX = new java.util.concurrent.atomic.AtomicLongArray(PER_EVENT ? 1 << 16 : 1);
    private static final java.util.concurrent.atomic.AtomicLongArray EVENT_SUM = new java.util.concurrent.atomic.AtomicLongArray(PER_EVENT ? 1 << 16 : 1);
    private static final java.util.concurrent.atomic.AtomicLongArray EVENT_N = new java.util.concurrent.atomic.AtomicLongArray(PER_EVENT ? 1 << 16 : 1);

    private FanOutLoad() {
    }

    /** What one reader thread counts; written by that thread only, read by the main thread. */
    static final class Tally {
        final Recorder latency = new Recorder(HOUR_NANOS, 3);
        volatile long counted;
        volatile int heads;
        volatile long disorder;
        volatile int failed;
        /** Why the first connection that failed did (null while none has). */
        volatile String firstFailure;
    }

    /** One subscriber: where it connects from and to, and the state of reading its stream. */
    static final class Conn {
        SocketChannel channel;
        final InetSocketAddress server;
        final InetSocketAddress local;
        final byte[] request;
        final boolean dead;
        /** Events beyond this many are read but not counted (the storm counts only the missed ones). */
        long cap = Long.MAX_VALUE;
        boolean headDone;
        boolean chunked;
        /** Chunked framing: bytes left in the current chunk; -1 while reading a size line; 0 after a chunk (its CRLF). */
        int chunkLeft = -1;
        int sizeValue;
        int lastByte;
        /** Events carrying a sequence number received on this connection. */
        long events;
        /** Position in the current line, whether it is a data line, the timestamp and sequence read from it. */
        int linePos;
        boolean dataLine;
        long stamp;
        int digits;
        long lastStamp;
        /** Reading the sequence number: -1 not yet; 0 expecting the space; 1..10 digits read + 1. */
        int seqState = -1;
        int seq;
        int pendingSeq = -1;
        /** The sequence number of the last event; carried over to a reconnection. */
        int lastSeq = -1;
        /** The current line while it may be an {@code id:} line, and the last id seen. */
        final StringBuilder idLine = new StringBuilder();
        String lastId = "";
        final StringBuilder head = new StringBuilder();

        Conn(InetSocketAddress server, InetSocketAddress local, byte[] request, boolean dead) {
            this.server = server;
            this.local = local;
            this.request = request;
            this.dead = dead;
        }

        /** A connection opened elsewhere (the soak run's). */
        Conn(SocketChannel channel) {
            this(null, null, null, false);
            this.channel = channel;
        }

        /**
         * Reads what {@code buf} holds; returns the deliveries to count. Latency, heads and
         * disorder go to {@code tally}.
         */
        long feed(ByteBuffer buf, long now, Tally tally) {
            long counted = 0;
            while (buf.hasRemaining()) {
                int b = buf.get();
                if (!headDone) {
                    head.append((char) b);
                    if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                        headDone = true;
                        chunked = head.toString().toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked");
                        tally.heads++;
                        lastByte = 0;
                        if (dead) {
                            return counted;
                        }
                    }
                    continue;
                }
                if (chunked) {
                    if (chunkLeft == -1) { // size line: hex digits, CRLF
                        if (b == '\n') {
                            chunkLeft = sizeValue;
                            sizeValue = 0;
                        } else if (b != '\r') {
                            sizeValue = sizeValue * 16 + Character.digit(b, 16);
                        }
                        continue;
                    }
                    if (chunkLeft <= 0) { // the CRLF after a chunk's data
                        if (b == '\n') {
                            chunkLeft = -1;
                        }
                        continue;
                    }
                    chunkLeft--;
                }
                if (b == '\n' && lastByte == '\n') {
                    counted += endOfEvent(now, tally);
                }
                // an "id:" line: remember the id (the storm's Last-Event-ID)
                if (b == '\n') {
                    if (idLine.length() > 3 && idLine.charAt(0) == 'i' && idLine.charAt(1) == 'd' && idLine.charAt(2) == ':') {
                        lastId = idLine.substring(idLine.length() > 3 && idLine.charAt(3) == ' ' ? 4 : 3);
                    }
                    idLine.setLength(0);
                } else if (linePos < 2 ? b == "id".charAt(linePos) : idLine.length() == linePos && idLine.length() > 0
                        && idLine.charAt(0) == 'i' && idLine.length() < 200) {
                    idLine.append((char) b);
                }
                // the data line: "data:", an optional space, 19 digits of System.nanoTime(), a space, 9 digits of sequence
                if (b == '\n') {
                    linePos = 0;
                } else {
                    if (linePos < 5) {
                        dataLine = (linePos == 0 || dataLine) && b == "data:".charAt(linePos);
                        stamp = 0;
                        digits = 0;
                        seqState = -1;
                    } else if (dataLine && digits < 19) {
                        if (!(linePos == 5 && b == ' ')) {
                            stamp = stamp * 10 + (b - '0');
                            if (++digits == 19) {
                                lastStamp = stamp;
                                seqState = 0;
                            }
                        }
                    } else if (dataLine && seqState == 0) {
                        seqState = b == ' ' ? 1 : -1;
                        seq = 0;
                    } else if (dataLine && seqState >= 1 && seqState <= 9) {
                        if (b >= '0' && b <= '9') {
                            seq = seq * 10 + (b - '0');
                            if (++seqState == 10) {
                                pendingSeq = seq;
                            }
                        } else {
                            seqState = -1;
                        }
                    }
                    linePos++;
                }
                lastByte = b;
            }
            return counted;
        }

        private long endOfEvent(long now, Tally tally) {
            if (lastStamp > 0) {
                tally.latency.recordValue(Math.min(HOUR_NANOS, Math.max(0, now - lastStamp)));
                if (PER_EVENT && pendingSeq >= 0) {
                    int i = pendingSeq & 0xffff;
                    long l = Math.max(0, now - lastStamp);
                    EVENT_MAX.accumulateAndGet(i, l, Math::max);
                    EVENT_SUM.addAndGet(i, l);
                    EVENT_N.incrementAndGet(i);
                }
                lastStamp = 0;
            }
            if (pendingSeq < 0) {
                return 0; // a comment or an event the benchmark did not publish
            }
            if (lastSeq >= 0) {
                int index = lastSeq & (SUCCESSOR.length() - 1);
                int next = pendingSeq + 1;
                if (!SUCCESSOR.compareAndSet(index, 0, next) && SUCCESSOR.get(index) != next) {
                    tally.disorder++;
                }
            }
            lastSeq = pendingSeq;
            pendingSeq = -1;
            return ++events <= cap ? 1 : 0;
        }
    }

    /** One reader thread: a selector, the connections it opens and reads. */
    static final class Worker implements Runnable {
        final Selector selector;
        final ConcurrentLinkedQueue<Conn> toOpen = new ConcurrentLinkedQueue<>();
        final Tally tally = new Tally();
        private final ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
        private int connecting;

        Worker() throws IOException {
            selector = Selector.open();
        }

        void open(Conn c) {
            toOpen.add(c);
            selector.wakeup();
        }

        @Override
        public void run() {
            try {
                while (selector.isOpen()) {
                    for (Conn c; connecting < IN_FLIGHT_CONNECTS && (c = toOpen.poll()) != null;) {
                        try {
                            start(c);
                        } catch (IOException e) {
                            tally.failed++;
                            if (tally.firstFailure == null) {
                                tally.firstFailure = e.toString();
                            }
                            if (c.channel != null) {
                                c.channel.close();
                            }
                        }
                    }
                    selector.select(50);
                    long now = System.nanoTime();
                    long counted = 0;
                    for (SelectionKey key : selector.selectedKeys()) {
                        Conn c = (Conn) key.attachment();
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isConnectable()) {
                            connecting--;
                            try {
                                c.channel.finishConnect();
                                connected(c, key);
                            } catch (IOException e) {
                                tally.failed++;
                                if (tally.firstFailure == null) {
                                    tally.firstFailure = e.toString();
                                }
                                key.cancel();
                                c.channel.close();
                            }
                        } else if (key.isReadable()) {
                            counted += read(c, key, now);
                        }
                    }
                    selector.selectedKeys().clear();
                    if (counted > 0) {
                        tally.counted = tally.counted + counted;
                    }
                }
            } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                // the run is over
            }
        }

        private void start(Conn c) throws IOException {
            SocketChannel ch = SocketChannel.open();
            c.channel = ch;
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (c.dead) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            }
            ch.bind(c.local);
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_CONNECT, c);
            if (ch.connect(c.server)) {
                connected(c, key);
            } else {
                connecting++;
            }
        }

        private void connected(Conn c, SelectionKey key) throws IOException {
            ByteBuffer request = ByteBuffer.wrap(c.request);
            while (request.hasRemaining()) { // a fresh socket takes a short request whole
                c.channel.write(request);
            }
            key.interestOps(SelectionKey.OP_READ);
        }

        private long read(Conn c, SelectionKey key, long now) throws IOException {
            buf.clear();
            int n;
            try {
                n = c.channel.read(buf);
            } catch (IOException e) {
                n = -1;
            }
            if (n < 0) {
                key.cancel();
                c.channel.close();
                return 0;
            }
            buf.flip();
            long counted = c.feed(buf, now, tally);
            if (c.dead && c.headDone) {
                key.interestOps(0); // stops reading: the server's writes back up
            }
            return counted;
        }
    }

    public static void main(String[] args) throws Exception {
        int[] ports = java.util.Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        InetSocketAddress control = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        int connections = Integer.parseInt(args[2]);
        int events = Integer.parseInt(args[3]);
        int size = Integer.parseInt(args[4]);
        InetSocketAddress[] sse = java.util.Arrays.stream(ports).mapToObj(p -> new InetSocketAddress("127.0.0.1", p))
                .toArray(InetSocketAddress[]::new);
        String path = args.length > 5 ? args[5] : "/sse";
        int rate = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        boolean storm = false;
        boolean idleOnly = false;
        boolean burst = false;
        boolean warmup = false;
        int holdSeconds = 0;
        int deadPercent = 0;
        for (int i = 7; i < args.length; i++) {
            if (args[i].equals("storm")) {
                storm = true;
            } else if (args[i].startsWith("dead=")) {
                deadPercent = Integer.parseInt(args[i].substring(5));
            } else if (args[i].equals("burst")) {
                burst = true;
            } else if (args[i].equals("idle")) {
                idleOnly = true;
            } else if (args[i].equals("warmup")) {
                warmup = true;
            } else if (args[i].startsWith("hold=")) {
                holdSeconds = Integer.parseInt(args[i].substring(5));
            } else {
                throw new IllegalArgumentException("unknown option " + args[i] + " (storm, dead=PERCENT, burst, idle, warmup, hold=SECONDS)");
            }
        }

        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            Worker w = new Worker();
            workers.add(w);
            Thread.ofPlatform().daemon().name("load-" + i).start(w);
        }
        int octet = 1 + (int) (System.nanoTime() % 250);
        byte[] request = request(path, "");
        int warmed = 0;
        if (warmup) {
            warmed = warmUp(workers, sse, octet == 250 ? 1 : octet + 1, request, connections, control);
        }
        String before = settledStats(control);
        List<Conn> conns = new ArrayList<>();
        int dead = 0;
        long start = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            boolean stops = deadPercent > 0 && (long) i * deadPercent % 100 < deadPercent;
            dead += stops ? 1 : 0;
            Conn c = new Conn(sse[i % sse.length], source(octet, i), request, stops);
            conns.add(c);
            workers.get(i % workers.size()).open(c);
        }
        awaitHeads(workers, warmed + connections, Duration.ofMinutes(2));
        System.out.printf("connections %d (heads %d, failed %d, %d reader threads, opened in %.1f s)%n", connections,
                sum(workers, t -> t.heads) - warmed, sum(workers, t -> t.failed), workers.size(), (System.nanoTime() - start) / 1e9);
        Thread.sleep(2000);
        String idle = settledStats(control);
        System.out.printf("server before: %s", before);
        System.out.printf("server idle:   %s", idle);
        System.out.printf("heap per idle connection: %.0f bytes%n", (field(idle, "heap") - field(before, "heap")) / (double) connections);
        if (field(idle, "rss") > 0) {
            System.out.printf("rss per idle connection: %.0f bytes%n", (field(idle, "rss") - field(before, "rss")) / (double) connections);
        }
        if (holdSeconds > 0) {
            System.out.printf("holding the %d idle connections for %d s%n", connections, holdSeconds);
            System.out.flush();
            Thread.sleep(holdSeconds * 1000L);
        }
        if (idleOnly) {
            for (Conn c : conns) {
                if (c.channel != null) {
                    c.channel.close();
                }
            }
            return;
        }

        // the burst: the server publishes EVENTS events (as fast as it can, or paced); count until all arrived
        int healthy = connections - dead;
        long target = (long) events * healthy;
        for (Worker w : workers) {
            w.tally.latency.reset();
        }
        long base = sum(workers, t -> t.counted);
        String query = "/publish?n=" + events + "&size=" + size + (rate > 0 ? "&rate=" + rate : "") + (burst ? "&burst=1" : "");
        Thread publisher = Thread.ofPlatform().daemon().start(() -> {
            try {
                System.out.print("server: " + get(control, query));
            } catch (IOException e) {
                System.out.println("server: publish failed: " + e);
            }
        });
        start = System.nanoTime();
        long received = 0;
        long deadline = start + (rate > 0 ? events * 1_000_000_000L / rate + 60_000_000_000L : 300_000_000_000L);
        long lastProgress = start;
        while (received < target && System.nanoTime() < deadline && System.nanoTime() - lastProgress < 20_000_000_000L) {
            Thread.sleep(5);
            long now = sum(workers, t -> t.counted) - base;
            if (now != received) {
                received = now;
                lastProgress = System.nanoTime();
            }
        }
        long took = (received >= target ? System.nanoTime() : lastProgress) - start;
        publisher.join(Duration.ofSeconds(5));
        Histogram latency = new Histogram(HOUR_NANOS, 3);
        for (Worker w : workers) {
            latency.add(w.tally.latency.getIntervalHistogram());
        }
        System.out.printf("burst: %d events x %d connections = %d deliveries in %.3f s: %.0f deliveries/s, missing %d%n",
                events, healthy, received, took / 1e9, received / (took / 1e9), target - received);
        System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (%d deliveries%s)%n",
                latency.getValueAtPercentile(50) / 1e6, latency.getValueAtPercentile(99) / 1e6,
                latency.getValueAtPercentile(99.9) / 1e6, latency.getMaxValue() / 1e6, latency.getTotalCount(),
                rate > 0 ? ", " + rate + " events/s" : ", as fast as possible");
        if (PER_EVENT) { // per 10 events of the sequence: slowest delivery, mean delivery (ms)
            StringBuilder b = new StringBuilder("per 10 events (max/mean ms):");
            for (int from = 0; from < EVENT_N.length(); from += 10) {
                long max = 0;
                long sum = 0;
                long n = 0;
                for (int i = from; i < from + 10 && i < EVENT_N.length(); i++) {
                    max = Math.max(max, EVENT_MAX.get(i));
                    sum += EVENT_SUM.get(i);
                    n += EVENT_N.get(i);
                }
                if (n > 0) {
                    b.append(String.format(" [%d] %.0f/%.0f", from, max / 1e6, sum / 1e6 / n));
                }
            }
            System.out.println(b);
        }
        System.out.printf("order: %d deliveries out of order (a successor other subscribers did not see)%n", sum(workers, t -> t.disorder));
        if (dead > 0) {
            System.out.printf("dead: %d connections (%d %%) stopped reading after their head; the figures above are the other %d's%n",
                    dead, deadPercent, healthy);
        }
        System.out.print("server after:  " + get(control, "/stats"));
        if (storm) {
            storm(conns, workers, sse, octet, path, control, size);
        }
        for (Conn c : conns) {
            if (c.channel != null) {
                c.channel.close();
            }
        }
        for (Worker w : workers) {
            w.selector.close();
        }
    }

    /**
     * Scenario (e): every connection drops at once (a reset), 100 events are published while they
     * are away, then all reconnect at once with {@code Last-Event-ID} set to the last id each saw.
     * Reports the time until every one has the 100 it missed, and how many deliveries were lost.
     */
    private static void storm(List<Conn> conns, List<Worker> workers, InetSocketAddress[] sse, int octet, String path,
            InetSocketAddress control, int size) throws IOException, InterruptedException {
        int missed = 100;
        for (Conn c : conns) {
            if (c.channel != null && c.channel.isOpen()) { // (a connection that failed to open is closed already)
                c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                c.channel.close();
            }
        }
        for (Worker w : workers) {
            w.selector.wakeup(); // the sockets really close when their keys are flushed
        }
        Thread.sleep(1000);
        System.out.print("server (clients away): " + get(control, "/publish?n=" + missed + "&size=" + size));
        long base = sum(workers, t -> t.counted);
        long disorderBefore = sum(workers, t -> t.disorder);
        long start = System.nanoTime();
        List<Conn> back = new ArrayList<>();
        for (int i = 0; i < conns.size(); i++) {
            Conn old = conns.get(i);
            String header = old.lastId.isEmpty() ? "" : "Last-Event-ID: " + old.lastId + "\r\n";
            Conn c = new Conn(sse[i % sse.length], source(octet, 20_000 + i), request(path, header), false);
            c.cap = missed;
            c.lastSeq = old.lastSeq; // the order check runs on across the reconnection
            back.add(c);
            workers.get(i % workers.size()).open(c);
        }
        long lastProgress = System.nanoTime();
        long received = 0;
        long target = (long) missed * back.size();
        while (received < target && System.nanoTime() - lastProgress < 5_000_000_000L && System.nanoTime() - start < 120_000_000_000L) {
            Thread.sleep(5);
            long now = sum(workers, t -> t.counted) - base;
            if (now != received) {
                received = now;
                lastProgress = System.nanoTime();
            }
        }
        double took = (lastProgress - start) / 1e9;
        System.out.printf("storm: %d clients reconnected at once with Last-Event-ID; %d of %d missed deliveries arrived in %.3f s; "
                + "out of order %d; lost %d%n", back.size(), received, target, took, sum(workers, t -> t.disorder) - disorderBefore,
                target - received);
        for (Conn c : back) {
            if (c.channel != null) {
                c.channel.close();
            }
        }
    }

    private static byte[] request(String path, String headers) {
        return ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + headers + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** A fresh source address per 10,000 connections: no port runs out, TIME_WAIT or not. */
    static InetSocketAddress source(int octet, int i) {
        return new InetSocketAddress("127." + octet + "." + (i / 10_000) + ".2", 0);
    }

    /**
     * Opens {@code n} connections, closes them once all have their heads, and publishes an event a
     * second (servers that only notice a closed stream when a write fails let go too) until the
     * server counts no subscriber (at most 60 s); returns how many got a head or failed.
     */
    private static int warmUp(List<Worker> workers, InetSocketAddress[] sse, int octet, byte[] request, int n,
            InetSocketAddress control) throws IOException, InterruptedException {
        List<Conn> warm = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Conn c = new Conn(sse[i % sse.length], source(octet, i), request, false);
            warm.add(c);
            workers.get(i % workers.size()).open(c);
        }
        awaitHeads(workers, n, Duration.ofMinutes(2));
        int done = (int) sum(workers, t -> t.heads + t.failed);
        for (Conn c : warm) {
            if (c.channel != null) {
                c.channel.close();
            }
        }
        for (Worker w : workers) {
            w.selector.wakeup(); // the sockets really close when their keys are flushed
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        do {
            Thread.sleep(1000);
            // a server that does not read idle streams (Undertow) notices closed ones only when a write
            // fails: the first write to a closed socket draws a reset, the next one fails
            get(control, "/publish?n=1&size=30");
        } while (field(get(control, "/stats"), "subscribers") > 0 && System.nanoTime() < deadline);
        System.out.printf("warm-up: %d connections opened and closed%n", done);
        return done;
    }

    /**
     * The server's stats, asked twice 3 s apart, the second answer: its full GCs shrink the heap, and
     * G1 gives the freed regions back to the OS concurrently, after the answer; the second answer's
     * RSS has them given back (on every server alike).
     */
    private static String settledStats(InetSocketAddress control) throws IOException, InterruptedException {
        get(control, "/stats");
        Thread.sleep(3000);
        return get(control, "/stats");
    }

    private static void awaitHeads(List<Worker> workers, int n, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (sum(workers, t -> t.heads + t.failed) < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static long sum(List<Worker> workers, java.util.function.ToLongFunction<Tally> f) {
        long s = 0;
        for (Worker w : workers) {
            s += f.applyAsLong(w.tally);
        }
        return s;
    }

    /** A number after {@code name} in a server's one-line stats ({@code heap 123 subscribers 4 rss 567 ...}); -1 if absent. */
    static long field(String stats, String name) {
        String[] f = stats.trim().split(" ");
        for (int i = 0; i + 1 < f.length; i++) {
            if (f[i].equals(name)) {
                return Long.parseLong(f[i + 1]);
            }
        }
        return -1;
    }

    /** The soak run's single-threaded reading: one select round; returns how many response heads completed. */
    static int pump(Selector selector, ByteBuffer buf, Tally tally) throws IOException {
        int heads = tally.heads;
        if (selector.select(100) == 0) {
            return 0;
        }
        long now = System.nanoTime();
        for (SelectionKey key : selector.selectedKeys()) {
            Conn c = (Conn) key.attachment();
            buf.clear();
            int n = c.channel.read(buf);
            if (n < 0) {
                key.cancel();
                continue;
            }
            buf.flip();
            c.feed(buf, now, tally);
        }
        selector.selectedKeys().clear();
        return tally.heads - heads;
    }

    static String get(InetSocketAddress server, String path) throws IOException {
        String authorization = HubBench.metricsAuthorization(); // a hub's /metrics is off its public port without it
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return all.substring(all.indexOf("\r\n\r\n") + 4);
        }
    }
}
