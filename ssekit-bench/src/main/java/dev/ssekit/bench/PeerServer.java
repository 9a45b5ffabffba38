package dev.ssekit.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;

/**
 * The peers of the fan-out benchmark, each serving one small contract: {@code GET /sse} on PORT
 * subscribes to a single broadcast group; the control server on PORT + 1 answers {@code
 * /publish?n=&size=[&rate=]} (n events of that many data bytes, the publisher's {@code
 * System.nanoTime()} first, as fast as possible or at {@code rate} per second) and {@code /stats}.
 * Usage: {@code PeerServer PORT ceiling|undertow|vertx|jetty|helidon}. Each peer is written the way
 * its documentation and common tutorials show, without ssekit.
 *
 * <ul>
 *   <li>{@code ceiling}: raw NIO, no HTTP library: each event is encoded once and the same bytes
 *       are written to every socket by one selector thread per core. Nothing real can beat it.
 *   <li>{@code undertow}: Undertow 2.4's {@code ServerSentEventHandler}, {@code send(data)} to each
 *       connection.
 *   <li>{@code vertx}: Vert.x 5 HTTP server, a chunked response per subscriber, {@code write} of the
 *       encoded event to each.
 *   <li>{@code jetty}: Jetty 12 with an async servlet (the Servlet API, no ssekit): each
 *       subscriber's {@code AsyncContext} is kept, the publisher writes and flushes the encoded
 *       event to each response in turn (blocking writes, as Spring's {@code SseEmitter} and most
 *       hand-written servlets do).
 *   <li>{@code helidon}: Helidon 4 SE's {@code SseSink} (virtual thread per request): each
 *       subscriber's handler takes events from its own queue and {@code emit}s them; the
 *       publisher offers each event to every queue.
 * </ul>
 */
public final class PeerServer {

    private PeerServer() {
    }

    /** A broadcast group as each peer keeps it. */
    interface Group {
        void broadcast(String data);

        /** Sends a whole burst; servers without a batch publish send it event after event. */
        default void broadcastAll(List<String> burst) {
            burst.forEach(this::broadcast);
        }

        int subscribers();

        /**
         * A group over a set of subscribers: {@code prepare} turns each event into what is done to
         * every subscriber (encoding once per event, not per subscriber, where the peer allows).
         */
        static <T> Group over(Set<T> members, java.util.function.Function<String, java.util.function.Consumer<T>> prepare) {
            return new Group() {
                @Override
                public void broadcast(String data) {
                    java.util.function.Consumer<T> send = prepare.apply(data);
                    for (T m : members) {
                        send.accept(m);
                    }
                }

                @Override
                public int subscribers() {
                    return members.size();
                }
            };
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String kind = args[1];
        Group group = switch (kind) {
            case "ceiling" -> new Ceiling(port, Runtime.getRuntime().availableProcessors());
            case "undertow" -> undertow(port);
            case "vertx" -> vertx(port);
            case "jetty" -> jetty(port);
            case "helidon" -> helidon(port);
            default -> throw new IllegalArgumentException("kind must be ceiling, undertow, vertx, jetty or helidon: " + kind);
        };
        HttpServer control = HttpServer.create(new InetSocketAddress("127.0.0.1", port + 1), 64);
        control.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        control.createContext("/publish", ex -> {
            String q = ex.getRequestURI().getQuery();
            int n = Integer.parseInt(FanOutServer.param(q, "n"));
            int size = Integer.parseInt(FanOutServer.param(q, "size"));
            int rate = q.contains("rate=") ? Integer.parseInt(FanOutServer.param(q, "rate")) : 0;
            long took = q.contains("burst=1") && rate == 0 ? publishBurst(group, n, size) : publish(group, n, size, rate);
            FanOutServer.reply(ex, "published " + n + " in " + took / 1_000_000 + " ms\n");
        });
        control.createContext("/stats", ex -> {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            FanOutServer.reply(ex, "heap " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() + " subscribers "
                    + group.subscribers() + " threads " + ManagementFactory.getThreadMXBean().getThreadCount() + " rss " + rss() + "\n");
        });
        control.start();
        System.out.println("listening " + port + " (" + kind + ", control on " + (port + 1) + ")");
    }

    /**
     * Publishes n events; with a rate, paced on the clock (not on the previous publish), each event
     * stamped with the time it was due: a server that holds the publisher up cannot hide the delay
     * from the latency figures (no coordinated omission).
     */
    static long publish(Group group, int n, int size, int rate) {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            group.broadcast(payload(due(start, i, rate), SEQUENCE.getAndIncrement(), size));
        }
        return System.nanoTime() - start;
    }

    /** Publishes n events as one burst (scenario f): all stamped now, handed over at once. */
    static long publishBurst(Group group, int n, int size) {
        long start = System.nanoTime();
        List<String> burst = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            burst.add(payload(start, SEQUENCE.getAndIncrement(), size));
        }
        group.broadcastAll(burst);
        return System.nanoTime() - start;
    }

    /** The sequence number of the next event this process publishes (across /publish calls). */
    static final java.util.concurrent.atomic.AtomicInteger SEQUENCE = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * An event's data as the load generator reads it: the publisher's {@code System.nanoTime()}
     * (19 digits), a space, the sequence number (9 digits), a space, padding to {@code size} bytes.
     */
    static String payload(long stamp, int seq, int size) {
        return String.format("%019d %09d ", stamp, seq) + "x".repeat(Math.max(0, size - 30));
    }

    /** The process's resident set size in bytes, from /proc/self/status; -1 where there is none. */
    static long rss() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /**
     * With a rate, sleeps until the i-th event is due and returns when it was due; without, now.
     * (Sleeping, not spinning: a spinning publisher would take one of the two cores.)
     */
    static long due(long start, int i, int rate) {
        if (rate <= 0) {
            return System.nanoTime();
        }
        long due = start + i * 1_000_000_000L / rate;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
        return due;
    }

    static byte[] frame(String data) {
        return ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    private static Group undertow(int port) {
        Set<io.undertow.server.handlers.sse.ServerSentEventConnection> connections = ConcurrentHashMap.newKeySet();
        io.undertow.server.handlers.sse.ServerSentEventHandler sse = io.undertow.Handlers.serverSentEvents((connection, lastEventId) -> {
            connections.add(connection);
            connection.addCloseTask(connections::remove);
        });
        io.undertow.Undertow.builder().addHttpListener(port, "127.0.0.1")
                .setIoThreads(Runtime.getRuntime().availableProcessors())
                .setServerOption(io.undertow.UndertowOptions.ENABLE_HTTP2, false)
                .setSocketOption(org.xnio.Options.BACKLOG, 4096)
                .setHandler(io.undertow.Handlers.path().addPrefixPath("/sse", sse)).build().start();
        return Group.over(connections, data -> c -> c.send(data));
    }

    private static Group vertx(int port) throws Exception {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        Set<io.vertx.core.http.HttpServerResponse> responses = ConcurrentHashMap.newKeySet();
        vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setAcceptBacklog(4096))
                .requestHandler(req -> {
                    if (!req.path().equals("/sse")) {
                        req.response().setStatusCode(404).end();
                        return;
                    }
                    io.vertx.core.http.HttpServerResponse r = req.response().setChunked(true)
                            .putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
                    r.writeHead();
                    responses.add(r);
                    r.closeHandler(v -> responses.remove(r));
                })
                .listen(port, "127.0.0.1").await();
        return Group.over(responses, data -> {
            io.vertx.core.buffer.Buffer b = io.vertx.core.buffer.Buffer.buffer(frame(data));
            return r -> r.write(b);
        });
    }

    private static Group jetty(int port) throws Exception {
        Set<jakarta.servlet.AsyncContext> subscribers = ConcurrentHashMap.newKeySet();
        startJetty(port, new jakarta.servlet.http.HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                    throws IOException {
                resp.setContentType("text/event-stream");
                resp.setCharacterEncoding("UTF-8");
                resp.setHeader("Cache-Control", "no-cache");
                jakarta.servlet.AsyncContext async = req.startAsync();
                async.setTimeout(0);
                resp.flushBuffer();
                subscribers.add(async);
            }
        });
        return Group.over(subscribers, data -> {
            byte[] frame = frame(data);
            return async -> {
                try {
                    var out = async.getResponse().getOutputStream();
                    synchronized (async) {
                        out.write(frame);
                        out.flush();
                    }
                } catch (IOException | RuntimeException e) { // gone: forget it
                    subscribers.remove(async);
                    try {
                        async.complete();
                    } catch (RuntimeException ignored) {
                        // already completed
                    }
                }
            };
        });
    }

    /**
     * Jetty 12 on 127.0.0.1:port (200 threads, accept queue 4,096) serving {@code /sse} with the
     * servlet, async supported: the Jetty peer and ssekit's Jetty adapter run on the same setup.
     */
    static void startJetty(int port, jakarta.servlet.http.HttpServlet servlet) throws Exception {
        org.eclipse.jetty.server.Server jetty = new org.eclipse.jetty.server.Server(new org.eclipse.jetty.util.thread.QueuedThreadPool(200));
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(4096);
        jetty.addConnector(connector);
        var context = new org.eclipse.jetty.ee10.servlet.ServletContextHandler();
        var holder = new org.eclipse.jetty.ee10.servlet.ServletHolder(servlet);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/sse");
        jetty.setHandler(context);
        jetty.start();
    }

    private static Group helidon(int port) {
        Set<java.util.concurrent.BlockingQueue<String>> queues = ConcurrentHashMap.newKeySet();
        io.helidon.webserver.WebServer.builder().host("127.0.0.1").port(port).backlog(4096)
                .routing(r -> r.get("/sse", (req, res) -> {
                    java.util.concurrent.BlockingQueue<String> queue = new java.util.concurrent.LinkedBlockingQueue<>();
                    queues.add(queue);
                    try (io.helidon.webserver.sse.SseSink sink = res.sink(io.helidon.webserver.sse.SseSink.TYPE)) {
                        while (true) {
                            sink.emit(io.helidon.http.sse.SseEvent.create(queue.take()));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        // the client went away: emit failed
                    } finally {
                        queues.remove(queue);
                    }
                }))
                .build().start();
        return Group.over(queues, data -> q -> q.add(data));
    }

    /** The ceiling: raw NIO, each event encoded once, the same bytes to every socket. */
    static final class Ceiling implements Group {
        private static final byte[] HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                + "Connection: keep-alive\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        private final Loop[] loops;
        private int next;

        Ceiling(int port, int threads) throws IOException {
            loops = new Loop[threads];
            for (int i = 0; i < threads; i++) {
                loops[i] = new Loop();
                Thread.ofPlatform().name("ceiling-" + i).start(loops[i]);
            }
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
            Thread.ofPlatform().name("ceiling-accept").start(() -> {
                while (true) {
                    try {
                        SocketChannel c = server.accept();
                        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        loops[next++ % loops.length].adopt(c);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void broadcast(String data) {
            ByteBuffer frame = ByteBuffer.wrap(frame(data)).asReadOnlyBuffer();
            for (Loop l : loops) {
                l.frames.add(frame);
                l.selector.wakeup();
            }
        }

        /** The whole burst encoded into one buffer: one write per socket (scenario f's ceiling). */
        @Override
        public void broadcastAll(List<String> burst) {
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            for (String data : burst) {
                all.writeBytes(frame(data));
            }
            ByteBuffer frame = ByteBuffer.wrap(all.toByteArray()).asReadOnlyBuffer();
            for (Loop l : loops) {
                l.frames.add(frame);
                l.selector.wakeup();
            }
        }

        @Override
        public int subscribers() {
            int n = 0;
            for (Loop l : loops) {
                n += l.count;
            }
            return n;
        }

        /** One selector thread: its connections, a queue of frames to send to all of them. */
        static final class Loop implements Runnable {
            final Selector selector;
            final ConcurrentLinkedQueue<ByteBuffer> frames = new ConcurrentLinkedQueue<>();
            final ConcurrentLinkedQueue<SocketChannel> incoming = new ConcurrentLinkedQueue<>();
            final List<Conn> conns = new ArrayList<>();
            volatile int count;

            static final class Conn {
                final SocketChannel ch;
                final SelectionKey key;
                final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
                boolean streaming;
                int headMatch;

                Conn(SocketChannel ch, SelectionKey key) {
                    this.ch = ch;
                    this.key = key;
                }
            }

            Loop() throws IOException {
                selector = Selector.open();
            }

            void adopt(SocketChannel c) {
                incoming.add(c);
                selector.wakeup();
            }

            @Override
            public void run() {
                ByteBuffer in = ByteBuffer.allocate(4096);
                List<ByteBuffer> batch = new ArrayList<>();
                while (true) {
                    try {
                        selector.select(100);
                        for (SocketChannel c; (c = incoming.poll()) != null;) {
                            c.configureBlocking(false);
                            Conn conn = new Conn(c, c.register(selector, SelectionKey.OP_READ));
                            conn.key.attach(conn);
                            conns.add(conn);
                            count = conns.size();
                        }
                        for (SelectionKey k : selector.selectedKeys()) {
                            Conn c = (Conn) k.attachment();
                            if (!k.isValid()) {
                                continue;
                            }
                            if (k.isReadable()) {
                                in.clear();
                                int n;
                                try {
                                    n = c.ch.read(in);
                                } catch (IOException e) {
                                    n = -1;
                                }
                                if (n < 0) {
                                    drop(c);
                                    continue;
                                }
                                for (int i = 0; i < n && !c.streaming; i++) { // the request head ends with CRLF CRLF
                                    byte b = in.get(i);
                                    c.headMatch = (b == "\r\n\r\n".charAt(c.headMatch)) ? c.headMatch + 1 : (b == '\r' ? 1 : 0);
                                    if (c.headMatch == 4) {
                                        c.streaming = true;
                                        c.pending.add(ByteBuffer.wrap(HEAD));
                                    }
                                }
                            }
                            if (k.isValid() && k.isWritable() || !c.pending.isEmpty()) {
                                flush(c);
                            }
                        }
                        selector.selectedKeys().clear();
                        batch.clear();
                        for (ByteBuffer f; (f = frames.poll()) != null;) {
                            batch.add(f);
                        }
                        if (!batch.isEmpty()) {
                            for (Conn c : new ArrayList<>(conns)) {
                                if (c.streaming) {
                                    for (ByteBuffer f : batch) {
                                        c.pending.add(f.duplicate());
                                    }
                                    flush(c);
                                }
                            }
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }

            private void flush(Conn c) {
                try {
                    ByteBuffer[] bufs = c.pending.toArray(ByteBuffer[]::new);
                    c.ch.write(bufs); // one gathering write for everything pending
                    while (!c.pending.isEmpty() && !c.pending.peek().hasRemaining()) {
                        c.pending.poll();
                    }
                    if (c.key.isValid()) {
                        c.key.interestOps(c.pending.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    }
                } catch (IOException e) {
                    drop(c);
                }
            }

            private void drop(Conn c) {
                c.key.cancel();
                try {
                    c.ch.close();
                } catch (IOException ignored) {
                    // gone anyway
                }
                conns.remove(c);
                count = conns.size();
            }
        }
    }
}
