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
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of the fan-out benchmark: one NIO thread holding N SSE connections, counting
 * events per connection (an event ends with a blank line). Usage:
 * {@code FanOutLoad PORT[,PORT...] CONTROL_PORT CONNECTIONS EVENTS SIZE [PATH]} (PATH: {@code /sse} by
 * default; with several ports, connections are spread over them round-robin).
 * Prints the heap per idle connection reported
 * by the server and the deliveries per second of a burst of EVENTS events to every connection.
 */
public final class FanOutLoad {

    private FanOutLoad() {
    }

    /** Publish-to-receive latency of every delivery, in nanoseconds (the clock is the machine's, shared by both JVMs). */
    static final org.HdrHistogram.Histogram LATENCY = new org.HdrHistogram.Histogram(3_600_000_000_000L, 3); // up to an hour

    static final class Conn {
        final SocketChannel channel;
        boolean headDone;
        boolean chunked;
        /** Chunked framing: bytes left in the current chunk; -1 while reading a size line; -2 after a chunk (its CRLF). */
        int chunkLeft = -1;
        int sizeValue;
        int lastByte;
        long events;
        /** Position in the current line, whether it is a data line, the timestamp read from it. */
        int linePos;
        boolean dataLine;
        long stamp;
        int digits;
        long lastStamp;
        /** The current line while it may be an {@code id:} line, and the last id seen. */
        final StringBuilder idLine = new StringBuilder();
        String lastId = "";
        final StringBuilder head = new StringBuilder();

        Conn(SocketChannel channel) {
            this.channel = channel;
        }
    }

    public static void main(String[] args) throws Exception {
        // PORT may list several ports (PORT1,PORT2,...): connection i goes to the (i mod n)-th
        int[] ports = java.util.Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        InetSocketAddress control = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        int connections = Integer.parseInt(args[2]);
        int events = Integer.parseInt(args[3]);
        int size = Integer.parseInt(args[4]);
        InetSocketAddress[] sse = java.util.Arrays.stream(ports).mapToObj(p -> new InetSocketAddress("127.0.0.1", p))
                .toArray(InetSocketAddress[]::new);
        String path = args.length > 5 ? args[5] : "/sse";
        int rate = args.length > 6 ? Integer.parseInt(args[6]) : 0; // events per second; 0: as fast as possible
        boolean storm = args.length > 7 && args[7].equals("storm"); // scenario (e) after the burst

        String before = get(control, "/stats");
        Selector selector = Selector.open();
        int sourceOctet = 1 + (int) (System.nanoTime() % 250);
        List<Conn> conns = new ArrayList<>();
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < connections; i++) {
            conns.add(open(selector, sse[i % sse.length], sourceOctet, i, request));
        }
        if (conns.isEmpty()) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
        int heads = 0;
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (heads < connections && System.nanoTime() < deadline) {
            heads += pump(selector, buf);
        }
        Thread.sleep(2000);
        String idle = get(control, "/stats");
        long heapBefore = Long.parseLong(before.split(" ")[1]);
        long heapIdle = Long.parseLong(idle.split(" ")[1]);
        System.out.printf("connections %d (heads %d)%n", connections, heads);
        System.out.printf("server before: %s", before);
        System.out.printf("server idle:   %s", idle);
        System.out.printf("heap per idle connection: %.0f bytes%n", (heapIdle - heapBefore) / (double) connections);

        // burst: the server publishes EVENTS events as fast as it can; count until all arrived
        long target = (long) events * connections;
        Thread publisher = Thread.ofPlatform().start(() -> {
            try {
                System.out.print("server: " + get(control, "/publish?n=" + events + "&size=" + size + (rate > 0 ? "&rate=" + rate : "")));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        LATENCY.reset();
        long start = System.nanoTime();
        long received = 0;
        deadline = System.nanoTime() + 300_000_000_000L;
        while (received < target && System.nanoTime() < deadline) {
            pump(selector, buf);
            received = 0;
            for (Conn c : conns) {
                received += c.events;
            }
        }
        long took = System.nanoTime() - start;
        publisher.join();
        long missing = target - received;
        System.out.printf("burst: %d events x %d connections = %d deliveries in %.3f s: %.0f deliveries/s, missing %d%n",
                events, connections, received, took / 1e9, received / (took / 1e9), missing);
        System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (%d deliveries%s)%n",
                LATENCY.getValueAtPercentile(50) / 1e6, LATENCY.getValueAtPercentile(99) / 1e6,
                LATENCY.getValueAtPercentile(99.9) / 1e6, LATENCY.getMaxValue() / 1e6, LATENCY.getTotalCount(),
                rate > 0 ? ", " + rate + " events/s" : ", as fast as possible");
        System.out.print("server after:  " + get(control, "/stats"));
        if (storm) {
            storm(conns, selector, buf, sse, sourceOctet, path, control, size);
        }
        for (Conn c : conns) {
            c.channel.close();
        }
    }

    /**
     * Scenario (e): every connection drops at once (a reset), 100 events are published while they
     * are away, then all reconnect at once with {@code Last-Event-ID} set to the last id each saw.
     * Reports the time until every one has the 100 it missed, and how many deliveries were lost.
     */
    private static void storm(List<Conn> conns, Selector selector, ByteBuffer buf, InetSocketAddress[] sse, int octet, String path,
            InetSocketAddress control, int size) throws IOException, InterruptedException {
        int missed = 100;
        List<String> ids = new ArrayList<>();
        for (Conn c : conns) {
            ids.add(c.lastId);
            c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            c.channel.close();
        }
        selector.selectNow(); // the sockets really close when their keys are flushed
        Thread.sleep(1000);
        System.out.print("server (clients away): " + get(control, "/publish?n=" + missed + "&size=" + size));
        long start = System.nanoTime();
        List<Conn> back = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String header = ids.get(i).isEmpty() ? "" : "Last-Event-ID: " + ids.get(i) + "\r\n";
            byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + header + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            back.add(open(selector, sse[i % sse.length], octet, 20_000 + i, request));
        }
        long lastProgress = System.nanoTime();
        long received = -1;
        long target = (long) missed * back.size();
        while (System.nanoTime() - lastProgress < 5_000_000_000L && System.nanoTime() - start < 120_000_000_000L) {
            pump(selector, buf);
            long now = 0;
            for (Conn c : back) {
                now += Math.min(missed, c.events);
            }
            if (now != received) {
                received = now;
                lastProgress = System.nanoTime();
            }
            if (received >= target) {
                break;
            }
        }
        double took = (lastProgress - start) / 1e9;
        System.out.printf("storm: %d clients reconnected at once with Last-Event-ID; %d of %d missed deliveries arrived in %.3f s; "
                + "lost %d%n", back.size(), received, target, took, target - received);
        for (Conn c : back) {
            c.channel.close();
        }
    }

    /** Opens one subscriber: a fresh source address per 10,000 connections (no port runs out, TIME_WAIT or not). */
    private static Conn open(Selector selector, InetSocketAddress server, int octet, int i, byte[] request) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(new InetSocketAddress("127." + octet + "." + (i / 10_000) + ".2", 0));
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.connect(server);
        ch.write(ByteBuffer.wrap(request));
        ch.configureBlocking(false);
        Conn c = new Conn(ch);
        ch.register(selector, SelectionKey.OP_READ, c);
        return c;
    }

    /** One select round; returns how many response heads completed. */
    static int pump(Selector selector, ByteBuffer buf) throws IOException {
        int heads = 0;
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
            while (buf.hasRemaining()) {
                int b = buf.get();
                if (!c.headDone) {
                    c.head.append((char) b);
                    if (c.head.length() >= 4 && c.head.substring(c.head.length() - 4).equals("\r\n\r\n")) {
                        c.headDone = true;
                        c.chunked = c.head.toString().toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked");
                        heads++;
                        c.lastByte = 0;
                    }
                    continue;
                }
                if (c.chunked) {
                    if (c.chunkLeft == -1) { // size line: hex digits, CRLF
                        if (b == '\n') {
                            c.chunkLeft = c.sizeValue;
                            c.sizeValue = 0;
                        } else if (b != '\r') {
                            c.sizeValue = c.sizeValue * 16 + Character.digit(b, 16);
                        }
                        continue;
                    }
                    if (c.chunkLeft <= 0) { // the CRLF after a chunk's data
                        if (b == '\n') {
                            c.chunkLeft = -1;
                        }
                        continue;
                    }
                    c.chunkLeft--;
                }
                if (b == '\n' && c.lastByte == '\n') {
                    c.events++;
                    if (c.lastStamp > 0) {
                        LATENCY.recordValue(Math.max(0, now - c.lastStamp));
                        c.lastStamp = 0;
                    }
                }
                // an "id:" line: remember the id (the storm's Last-Event-ID)
                if (b == '\n') {
                    if (c.idLine.length() > 3 && c.idLine.charAt(0) == 'i' && c.idLine.charAt(1) == 'd' && c.idLine.charAt(2) == ':') {
                        c.lastId = c.idLine.substring(c.idLine.length() > 3 && c.idLine.charAt(3) == ' ' ? 4 : 3);
                    }
                    c.idLine.setLength(0);
                } else if (c.linePos < 2 ? b == "id".charAt(c.linePos) : c.idLine.length() == c.linePos && c.idLine.length() > 0
                        && c.idLine.charAt(0) == 'i' && c.idLine.length() < 200) {
                    c.idLine.append((char) b);
                }
                // the data line starts with the publisher's System.nanoTime(), 19 digits
                if (b == '\n') {
                    c.linePos = 0;
                } else {
                    if (c.linePos < 5) {
                        c.dataLine = (c.linePos == 0 || c.dataLine) && b == "data:".charAt(c.linePos);
                        c.stamp = 0;
                        c.digits = 0;
                    } else if (c.dataLine && c.digits < 19 && !(c.linePos == 5 && b == ' ')) { // "data:" then an optional space
                        c.stamp = c.stamp * 10 + (b - '0');
                        if (++c.digits == 19) {
                            c.lastStamp = c.stamp;
                        }
                    }
                    c.linePos++;
                }
                c.lastByte = b;
            }
        }
        selector.selectedKeys().clear();
        return heads;
    }

    static String get(InetSocketAddress server, String path) throws IOException {
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return all.substring(all.indexOf("\r\n\r\n") + 4);
        }
    }
}
