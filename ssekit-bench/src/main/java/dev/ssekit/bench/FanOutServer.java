package dev.ssekit.bench;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.BroadcasterStats;
import dev.ssekit.Sse;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * The server side of the fan-out benchmark: ssekit's broadcaster on the JDK adapter.
 * {@code GET /sse} subscribes to one broadcast group; {@code GET /publish?n=&size=} publishes n
 * events of that many data bytes as fast as it can and answers when done; {@code GET /stats} runs
 * a full GC and reports heap in use, subscribers and the broadcaster's counters.
 * Usage: {@code FanOutServer PORT [jdk|netty|jetty|hub]}; SSE on the chosen adapter, control endpoints
 * on the JDK server at PORT + 1 for the others. Prints {@code listening PORT}.
 *
 * <p>{@code hub} runs the Mercure hub (as {@code bin/hub} does, in this JVM) and goes through its
 * protocol: subscribers {@code GET /.well-known/mercure?topic=bench}, and {@code /publish} POSTs
 * the events to the hub with a publisher token from 16 keep-alive connections, one POST in flight on
 * each ({@code HubBench}).
 */
public final class FanOutServer {

    private FanOutServer() {
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        String adapter = args.length > 1 ? args[1] : "jdk";
        Broadcaster hub = Broadcaster.builder().heartbeat(Duration.ofMinutes(10)).maxQueuedBytes(4L << 20)
                .history(1000, 64L << 20, Duration.ofMinutes(10)).build();
        int controlPort = adapter.equals("jdk") ? port : port + 1;
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", controlPort), 4096);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        if (adapter.equals("hub")) {
            // SSEKIT_BENCH_REDIS=redis://… and SSEKIT_BENCH_NODES=n: n hub nodes sharing that Redis
            String redis = System.getenv("SSEKIT_BENCH_REDIS");
            int nodes = Integer.parseInt(System.getenv().getOrDefault("SSEKIT_BENCH_NODES", "1"));
            HubBench.start(port, server, redis, nodes);
            server.start();
            System.out.println("listening " + port + " (hub, " + nodes + " node(s)" + (redis == null ? "" : " on " + redis)
                    + ", control on " + controlPort + ")");
            return;
        }
        switch (adapter) {
            case "jdk" -> server.createContext("/sse", ex -> hub.subscribe(Sse.start(ex), "bench"));
            case "netty" -> dev.ssekit.netty.NettySseServer.builder().address(new InetSocketAddress("127.0.0.1", port))
                    .http2(false).route("/sse", (request, conn) -> hub.subscribe(conn, "bench")).start();
            case "jetty" -> startJetty(port, hub);
            default -> throw new IllegalArgumentException("adapter must be jdk, netty, jetty or hub: " + adapter);
        }
        server.createContext("/publish", ex -> {
            String q = ex.getRequestURI().getQuery();
            int n = Integer.parseInt(param(q, "n"));
            int size = Integer.parseInt(param(q, "size"));
            int rate = q.contains("rate=") ? Integer.parseInt(param(q, "rate")) : 0;
            long took = PeerServer.publish(new PeerServer.Group() {
                @Override
                public void broadcast(String data) {
                    hub.publish(SseMessage.of(data), "bench");
                }

                @Override
                public int subscribers() {
                    return (int) hub.stats().connections();
                }
            }, n, size, rate);
            reply(ex, "published " + n + " in " + took / 1_000_000 + " ms\n");
        });
        server.createContext("/stats", ex -> {
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            BroadcasterStats s = hub.stats();
            reply(ex, "heap " + mem.getHeapMemoryUsage().getUsed() + " subscribers " + s.connections() + " published "
                    + s.published() + " delivered " + s.delivered() + " evictions " + s.evictions() + " queued "
                    + s.queuedBytes() + " threads " + ManagementFactory.getThreadMXBean().getThreadCount() + " rss " + PeerServer.rss() + "\n");
        });
        server.start();
        System.out.println("listening " + port + " (" + adapter + ", control on " + controlPort + ")");
    }

    private static void startJetty(int port, Broadcaster hub) {
        try {
            PeerServer.startJetty(port, new jakarta.servlet.http.HttpServlet() {
                private static final long serialVersionUID = 1L;

                @Override
                protected void doGet(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                        throws IOException {
                    hub.subscribe(dev.ssekit.servlet.ServletSse.start(req, resp), "bench");
                }
            });
        } catch (Exception e) {
            throw new IllegalStateException("jetty: " + e, e);
        }
    }

    static String param(String query, String name) {
        for (String p : query.split("&")) {
            if (p.startsWith(name + "=")) {
                return p.substring(name.length() + 1);
            }
        }
        throw new IllegalArgumentException("missing " + name);
    }

    static void reply(com.sun.net.httpserver.HttpExchange ex, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, b.length);
        try (var out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
